namespace AfXdp.DevicePlugin;

/// <summary><c>mkdir -p</c> that remembers what it made, so that the maker removes exactly that again (when empty).</summary>
internal sealed class CreatedDirectories
{
    readonly List<string> _created = [];

    /// <summary>Creates <paramref name="directory"/> and its missing parents.</summary>
    public void Create(string directory)
    {
        var missing = new Stack<string>();
        for (string? d = directory; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d))
            missing.Push(d);
        while (missing.Count > 0)
        {
            string d = missing.Pop();
            Directory.CreateDirectory(d);
            _created.Add(d);
        }
    }

    /// <summary>Removes what <see cref="Create"/> made, deepest first, leaving any that something else filled.</summary>
    public void RemoveEmpty()
    {
        for (int i = _created.Count - 1; i >= 0; i--)
        {
            if (Directory.Exists(_created[i]) && !Directory.EnumerateFileSystemEntries(_created[i]).Any())
                Directory.Delete(_created[i]);
        }
        _created.Clear();
    }
}
