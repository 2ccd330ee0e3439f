using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using AfXdp.Cli.Commands;
using AfXdp.Diagnostics;

namespace AfXdp.Cli;

/// <summary>
/// The one place that turns a command line into an exit code: usage errors are one line each and
/// exit code 2; a failure at run time is one line ("afxdp: ...") and exit code 1. No stack trace
/// unless AFXDP_DEBUG=1.
/// </summary>
internal static class CommandLine
{
    /// <summary>Exit code of a run that failed.</summary>
    public const int Failed = 1;

    /// <summary>Exit code of a command line that cannot be right (an unknown option, a malformed value).</summary>
    public const int UsageError = 2;

    static bool Debug => Environment.GetEnvironmentVariable("AFXDP_DEBUG") is "1" or "true";

    public static int Run(Command root, string[] args)
    {
        ParseResult parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            string command = CommandPath(parse.CommandResult);
            foreach (ParseError error in parse.Errors)
                Console.Error.WriteLine($"{command}: {error.Message}");
            return UsageError;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"{CommandPath(parse.CommandResult)}: {e.Message}");
            return UsageError;
        }
        catch (Exception e)
        {
            Exception error = e is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : e;
            Console.Error.WriteLine(error switch
            {
                AfXdpException => $"afxdp: {error.Message}",
                ArgumentException argument => $"afxdp: {OneLine(argument)}",
                _ when Debug => $"afxdp: {error}",
                _ => $"afxdp: {error.Message} ({error.GetType().Name}; AFXDP_DEBUG=1 shows where)",
            });
            if (Debug && error is AfXdpException or ArgumentException)
                Console.Error.WriteLine(error.StackTrace);
            if (error is PrivilegeException && MissingPrivileges() is { } missing)
                Console.Error.WriteLine($"afxdp: {missing}");
            return Failed;
        }
    }

    /// <summary>
    /// The library's message for a bad value ("WHAT: CAUSE Fix: FIX") without the " (Parameter 'NAME')" that
    /// ArgumentException appends: the user typed an option, not a parameter.
    /// </summary>
    public static string OneLine(ArgumentException e)
    {
        string suffix = $" (Parameter '{e.ParamName}')";
        return e.ParamName is not null && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
    }

    /// <summary>"afxdp bench", "afxdp lab up": the command the error belongs to.</summary>
    static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is CommandResult c; r = c.Parent)
            names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }

    /// <summary>
    /// Every privilege doctor finds lacking (capabilities, the memlock limit), in one line, so that a run
    /// without them names them all at once instead of one per attempt; null when nothing is lacking.
    /// </summary>
    static string? MissingPrivileges()
    {
        DoctorCheck[] lacking = [.. Doctor.PrivilegeChecks().Where(c => c.Status != CheckStatus.Ok)];
        if (lacking.Length == 0)
            return null;
        // The capabilities to grant: the ones AF_XDP fails without, and CAP_IPC_LOCK when the memlock limit is short.
        string[] grant = [.. lacking.Where(c => c.Status == CheckStatus.Fail && c.Name.StartsWith("CAP_", StringComparison.Ordinal)).Select(c => c.Name)
            .Concat(lacking.Any(c => c.Name == "memlock") ? ["CAP_IPC_LOCK"] : [])
            .Select(name => name.ToLowerInvariant())];
        return $"what `afxdp doctor` finds lacking here: {string.Join("; ", lacking.Select(c => $"{DoctorCommand.Label(c.Status)} {c.Name}: {c.Detail}"))}." +
            (grant.Length == 0 ? "" : $" Grant them at once: run as root, or `setcap {string.Join(',', grant)}+ep BINARY`.");
    }
}

/// <summary>A command line that is wrong in a way only the command's action can tell (options that exclude each other): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
