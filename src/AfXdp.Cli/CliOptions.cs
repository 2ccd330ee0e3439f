using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using AfXdp.Bpf;
using AfXdp.Net;

namespace AfXdp.Cli;

/// <summary>
/// The options every subcommand shares, built once: each parses its own value and refuses a bad one
/// with one line naming the option, the value and what it expects ("--batch: 'abc' is not a whole
/// number from 1 to 1024"), which the parser reports as a usage error (exit code 2).
/// One letter means one thing in every subcommand (docs/cli.md's table); bench keeps xdpsock's letters.
/// </summary>
internal static class CliOptions
{
    /// <summary>
    /// Runs a library options type's own validation in a command's action, before anything is created: a
    /// value it refuses is a usage error (exit code 2) in the library's words. (Checks across options live in
    /// the action: System.CommandLine's command validators do not see the defaults of options not given.)
    /// </summary>
    public static void Validate(Action validate)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(CommandLine.OneLine(e));
        }
    }

    /// <summary>-i: the network interface.</summary>
    public static Option<string> Interface(string description) => new("--interface", "-i") { Description = description, Required = true };

    /// <summary>-q: the queue id to bind.</summary>
    public static Option<uint> Queue(string description = "queue id") => Number<uint>("--queue", "-q", description, 0, 0, 4095, "a queue id");

    /// <summary>-a: how the XDP program attaches.</summary>
    public static Option<string> Attach(string description = "XDP attach mode: skb | drv | auto") => Choice("--attach", "-a", description, "auto", "skb", "drv", "auto");

    /// <summary>-d: how long to run, in seconds; <paramref name="zeroRunsForever"/> lets 0 mean "until Ctrl-C".</summary>
    public static Option<double> Duration(string description, double defaultValue, bool zeroRunsForever)
    {
        var option = new Option<double>("--duration", "-d") { Description = description, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = r => r.Tokens.Count == 0 ? defaultValue : Seconds(r, "--duration", zeroRunsForever);
        return option;
    }

    /// <summary>
    /// A number of seconds up to <paramref name="maximum"/> (a day): 0 allowed only when <paramref name="zeroAllowed"/>;
    /// at least <paramref name="minimum"/> when that is above 0.
    /// </summary>
    public static double Seconds(ArgumentResult r, string name, bool zeroAllowed, double maximum = 86400, double minimum = 0)
    {
        string text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
            && double.IsFinite(seconds) && (zeroAllowed ? seconds >= 0 : seconds > 0) && seconds >= minimum && seconds <= maximum)
            return seconds;
        string range = zeroAllowed ? $"from 0 to {maximum} (0: until Ctrl-C)" : minimum > 0 ? $"from {minimum.ToString(CultureInfo.InvariantCulture)} to {maximum}" : $"above 0 and up to {maximum}";
        r.AddError($"{name}: '{text}' is not a number of seconds {range}");
        return 0;
    }

    /// <summary>-n: how many packets or datagrams.</summary>
    public static Option<long> Count(string description, long defaultValue, long min, long max) => Number("--count", "-n", description, defaultValue, min, max);

    /// <summary>
    /// A whole number from <paramref name="min"/> to <paramref name="max"/> (<paramref name="what"/> names it in the
    /// error), also meeting <paramref name="rule"/> when given.
    /// </summary>
    public static Option<T> Number<T>(string name, string? alias, string description, T defaultValue, T min, T max,
        string what = "a whole number", Func<T, bool>? rule = null) where T : struct, IBinaryInteger<T>
    {
        var option = alias is null ? new Option<T>(name) : new Option<T>(name, alias);
        option.Description = description;
        option.DefaultValueFactory = _ => defaultValue;
        option.CustomParser = r => r.Tokens.Count == 0 ? defaultValue : ParseNumber(r, name, min, max, what, rule) ?? defaultValue;
        return option;
    }

    /// <summary>As <see cref="Number{T}"/>, but absent means null (the library's own default).</summary>
    public static Option<T?> OptionalNumber<T>(string name, string description, T min, T max, string what = "a whole number") where T : struct, IBinaryInteger<T> =>
        new(name) { Description = description, CustomParser = r => r.Tokens.Count == 0 ? null : ParseNumber(r, name, min, max, what, rule: null) };

    /// <summary>Several whole numbers after one option (-q 0 1) or repeated (-q 0 -q 1).</summary>
    public static Option<T[]> Numbers<T>(string name, string? alias, string description, T min, T max, string what) where T : struct, IBinaryInteger<T>
    {
        var option = alias is null ? new Option<T[]>(name) : new Option<T[]>(name, alias);
        option.Description = description;
        option.AllowMultipleArgumentsPerToken = true;
        option.CustomParser = r =>
        {
            var values = new T[r.Tokens.Count];
            for (int i = 0; i < values.Length; i++)
            {
                if (ParseWhole(r.Tokens[i].Value, min, max) is not { } value)
                {
                    r.AddError($"{name}: '{r.Tokens[i].Value}' is not {what} from {min} to {max}");
                    return [];
                }
                values[i] = value;
            }
            return values;
        };
        return option;
    }

    static T? ParseNumber<T>(ArgumentResult r, string name, T min, T max, string what, Func<T, bool>? rule) where T : struct, IBinaryInteger<T>
    {
        string text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
        if (ParseWhole(text, min, max) is { } value && (rule is null || rule(value)))
            return value;
        r.AddError($"{name}: '{text}' is not {what} from {min} to {max}");
        return null;
    }

    static T? ParseWhole<T>(string text, T min, T max) where T : struct, IBinaryInteger<T> =>
        T.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out T value) && value >= min && value <= max ? value : null;

    /// <summary>One of <paramref name="choices"/>, e.g. "-m rxdrop".</summary>
    public static Option<string> Choice(string name, string? alias, string description, string defaultValue, params string[] choices)
    {
        var option = alias is null ? new Option<string>(name) : new Option<string>(name, alias);
        option.Description = description;
        option.DefaultValueFactory = _ => defaultValue;
        option.CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
                return defaultValue;
            string text = r.Tokens[0].Value;
            if (choices.Contains(text))
                return text;
            r.AddError($"{name}: '{text}' is not one of {string.Join(", ", choices)}");
            return defaultValue;
        };
        option.CompletionSources.Add(choices);
        return option;
    }

    /// <summary>A MAC address such as 02:00:00:00:0b:01.</summary>
    public static Option<MacAddress?> Mac(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
                return null;
            string text = r.Tokens[0].Value;
            if (MacAddress.TryParse(text, out MacAddress mac))
                return mac;
            r.AddError($"{name}: '{text}' is not a MAC address (like 02:00:00:00:0b:01)");
            return null;
        },
    };

    /// <summary>An IPv4 address; <paramref name="fallback"/> when absent (null: none).</summary>
    public static Option<IPAddress?> Ipv4(string name, string description, string? fallback) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => fallback is null ? null : IPAddress.Parse(fallback),
        CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
                return fallback is null ? null : IPAddress.Parse(fallback);
            string text = r.Tokens[0].Value;
            if (IPAddress.TryParse(text, out IPAddress? ip) && ip.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') == 3)
                return ip;
            r.AddError($"{name}: '{text}' is not an IPv4 address (like 10.0.0.2)");
            return null;
        },
    };

    /// <summary>--filter "udp dst port 4791": steer only matching frames to the socket (the grammar of <see cref="PacketFilter"/>).</summary>
    public static Option<PacketFilter?> Filter() => new("--filter")
    {
        Description = "steer only matching frames to the socket, pass the rest to the kernel, e.g. \"udp dst port 4791\", " +
            "\"tcp dst port 8000-8100\", \"ip dst 10.0.0.2 and udp\", \"ip6 dst fd00::2\", \"vlan 100 and udp dst port 9\", \"ether proto 0x88b5\"",
        CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
                return null;
            if (PacketFilter.TryParse(r.Tokens[0].Value, out PacketFilter? filter, out string error))
                return filter;
            r.AddError($"--filter: {error}");
            return null;
        },
    };

    /// <summary>A file to create, as its full path, or "-" for standard output: refused at once when it is a directory or its directory does not exist.</summary>
    public static Option<string> OutputFile(string name, string alias, string description) => new(name, alias)
    {
        Description = description,
        Required = true,
        CustomParser = r =>
        {
            string text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (text == "-")
                return text;
            var file = new FileInfo(text.Length == 0 ? "." : text);
            if (text.Length == 0 || text.EndsWith('/') || Directory.Exists(file.FullName))
                r.AddError($"{name}: '{text}' is a directory; expected the path of a file to write, like {Path.Combine(text.Length == 0 ? "/tmp" : text, "capture.pcap")}");
            else if (!Directory.Exists(file.DirectoryName))
                r.AddError($"{name}: '{text}': the directory {file.DirectoryName} does not exist; expected a file in an existing directory");
            return file.FullName;
        },
    };
}
