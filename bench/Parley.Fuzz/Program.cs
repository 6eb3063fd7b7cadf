using Parley.Fuzz;
using SharpFuzz;

// Usage (bench/fuzz.sh runs it under afl-fuzz after instrumenting the Parley assemblies with `sharpfuzz`):
//   Parley.Fuzz <target>                 one AFL++ persistent-mode session on stdin/shared memory
//   Parley.Fuzz <target> --replay <dir>  every file of <dir> through the target once (no AFL)
if (args.Length == 0 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine("targets: " + string.Join(", ", FuzzTargets.All.Keys));
    return 2;
}
if (args.Length == 3 && args[1] == "--replay")
{
    foreach (var file in Directory.EnumerateFiles(args[2]))
    {
        target(File.ReadAllBytes(file));
    }
    return 0;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
