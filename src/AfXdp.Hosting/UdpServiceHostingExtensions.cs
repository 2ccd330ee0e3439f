using System.Diagnostics.CodeAnalysis;
using AfXdp.Udp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AfXdp.Hosting;

/// <summary>Registers a <see cref="UdpService"/> with the Generic Host, and its health check.</summary>
/// <example>
/// <code>
/// HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
/// builder.Services.AddUdpService&lt;EchoHandler&gt;(builder.Configuration.GetSection("AfXdp"));
/// builder.Services.AddHealthChecks().AddUdpService();
/// builder.Build().Run();
/// </code>
/// </example>
public static class UdpServiceHostingExtensions
{
    /// <summary>
    /// Serves with the host, on the settings bound from <paramref name="configuration"/> (a section such as "AfXdp" of
    /// appsettings.json and the environment); a <typeparamref name="THandler"/> per queue, made by the container
    /// (its constructor may take the queue's <see cref="UdpSender"/> besides registered services).
    /// </summary>
    public static IServiceCollection AddUdpService<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this IServiceCollection services, IConfiguration configuration)
        where THandler : class, IUdpHandler
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string section = configuration is IConfigurationSection s ? s.Path : typeof(UdpServiceSettings).Name;
        services.AddOptions<UdpServiceSettings>(section).Bind(configuration);
        return services.AddUdpService(section, HandlerFactory<THandler>());
    }

    /// <summary>Serves with the host, on settings made in code; a <typeparamref name="THandler"/> per queue, as above.</summary>
    public static IServiceCollection AddUdpService<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this IServiceCollection services, Action<UdpServiceSettings> configure)
        where THandler : class, IUdpHandler
    {
        ArgumentNullException.ThrowIfNull(configure);
        string section = typeof(UdpServiceSettings).Name;
        services.AddOptions<UdpServiceSettings>(section).Configure(configure);
        return services.AddUdpService(section, HandlerFactory<THandler>());
    }

    /// <summary>
    /// Serves with the host, on the settings registered under the options name <paramref name="section"/> (also the
    /// prefix of the keys in error messages), with a handler per queue from <paramref name="handlerFactory"/>.
    /// </summary>
    public static IServiceCollection AddUdpService(this IServiceCollection services, string section, Func<IServiceProvider, UdpSender, IUdpHandler> handlerFactory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(section);
        ArgumentNullException.ThrowIfNull(handlerFactory);
        services.AddOptions<UdpServiceSettings>(section);
        services.AddSingleton<IHostedService>(provider => new UdpServiceRunner(
            section,
            () => provider.GetRequiredService<IOptionsMonitor<UdpServiceSettings>>().Get(section),
            sender => handlerFactory(provider, sender),
            provider.GetRequiredService<ILogger<UdpServiceRunner>>(),
            provider.GetRequiredService<IHostApplicationLifetime>()));
        return services;
    }

    /// <summary>Adds <see cref="UdpServiceHealthCheck"/> over every UDP service the host runs.</summary>
    public static IHealthChecksBuilder AddUdpService(this IHealthChecksBuilder builder, string name = "afxdp-udp", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // One instance: it remembers the drop counters of the previous check.
        builder.Services.AddSingleton<UdpServiceHealthCheck>();
        return builder.Add(new HealthCheckRegistration(name, provider => provider.GetRequiredService<UdpServiceHealthCheck>(), HealthStatus.Unhealthy, tags));
    }

    static Func<IServiceProvider, UdpSender, IUdpHandler> HandlerFactory<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>()
        where THandler : class, IUdpHandler
    {
        bool takesSender = typeof(THandler).GetConstructors().Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(UdpSender)));
        ObjectFactory factory = ActivatorUtilities.CreateFactory(typeof(THandler), takesSender ? [typeof(UdpSender)] : []);
        return (provider, sender) => (IUdpHandler)factory(provider, takesSender ? [sender] : null);
    }
}
