import GearmanEngineFuzzing
import GearmanFuzzing

/// The fuzz target: libFuzzer calls it with each input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngine(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    EngineFuzzer.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if FUZZING
@_cdecl("fuzz_engine_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    LibFuzzer.run(argc, argv, fuzzEngine)
}
#endif

// Built plainly, the program replays the files or folders named on its command line through the same
// target. In the fuzzing build (a library, -parse-as-library) this global is never read, so never runs.
let replayed = FuzzReplay.run(EngineFuzzer.run)
