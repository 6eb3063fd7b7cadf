namespace Parley.Testing;

/// <summary>Locates files of the repository from a test's bin folder.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Parley.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Parley.slnx not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The repository root (the folder holding Parley.slnx).</summary>
    public static string Root => s_root.Value;

    /// <summary>The Node test clients' folder (test/js), where test.sh ran <c>npm ci</c>.</summary>
    public static string JsDir => Path.Combine(Root, "test", "js");

    /// <summary>The Python test clients' folder (test/python), run by Debian's python3 and its python3-socketio.</summary>
    public static string PythonDir => Path.Combine(Root, "test", "python");
}
