using Parley.Testing;

namespace Parley.Fuzz.Tests;

/// <summary>
/// Every input of the committed corpus (test/fuzz-corpus/&lt;target&gt;: seeds from upstream test vectors, what
/// AFL++ kept for coverage, and every crash it found, as regressions) goes through its target: none may throw
/// anything but the decoder's documented error.
/// </summary>
public sealed class CorpusReplayTests
{
    public static TheoryData<string> Targets => [.. FuzzTargets.All.Keys];

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_corpus_replays_without_a_finding(string target)
    {
        var dir = Path.Combine(RepoPaths.Root, "test", "fuzz-corpus", target);
        var files = Directory.GetFiles(dir);
        Assert.True(files.Length >= 5, $"{dir} holds {files.Length} inputs");
        var failures = new List<string>();
        foreach (var file in files)
        {
            try
            {
                FuzzTargets.All[target](File.ReadAllBytes(file));
            }
            catch (Exception ex)
            {
                failures.Add($"{Path.GetFileName(file)}: {ex.GetType().Name}: {ex.Message}");
            }
        }
        Assert.Empty(failures);
    }
}
