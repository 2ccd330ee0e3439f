using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(AfXdp.Benchmarks.SimulatedXsk).Assembly).Run(args);
