using AfXdp.Hosting;
using AfxdpUdp;

// Settings: appsettings.json beside the program, then the environment (AfXdp__Interface=eth0,
// AfXdp__Endpoints__0=192.0.2.1:7070), then the command line (--AfXdp:Interface=eth0).
HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
// Under systemd (Type=notify): readiness and stop are told to it, and the log takes the journal's format.
builder.Services.AddSystemd();
// A PingHandler per queue, on the AF_XDP sockets; the host starts and stops the service with itself.
builder.Services.AddUdpService<PingHandler>(builder.Configuration.GetSection("AfXdp"));
// The service's health (interface, queues, program, workers, the kernel's drop counters), told in the log when it changes.
builder.Services.AddHealthChecks().AddUdpService().PublishToLog();
builder.Build().Run();
// 2 when the service could not start (the log says why), 1 when a worker ended, else 0.
return Environment.ExitCode;
