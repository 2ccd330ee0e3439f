using Microsoft.Extensions.Logging;

namespace AfXdp.TestShared;

/// <summary>A logger provider that keeps every entry (event id, level, message), at every level: logging fully on.</summary>
internal sealed class LogRecorder : ILoggerProvider
{
    readonly List<(int EventId, LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(int EventId, LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
                return [.. _entries];
        }
    }

    public IReadOnlyList<string> Messages(int eventId) => [.. Entries.Where(e => e.EventId == eventId).Select(e => e.Message)];

    public override string ToString() => string.Join('\n', Entries.Select(e => $"{e.Level} {e.EventId}: {e.Message}"));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    sealed class Logger(LogRecorder recorder) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (recorder._entries)
                recorder._entries.Add((eventId.Id, logLevel, formatter(state, exception)));
        }
    }
}
