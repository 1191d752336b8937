using BenchmarkDotNet.Running;

// Usage: dotnet run -c Release --project perf/Benchmarks -- --filter '*' [--job short]
BenchmarkSwitcher.FromAssembly(typeof(P2PRegistry.Benchmarks.MetaInfoBenchmarks).Assembly).Run(args);
