import GearmanFuzzing

/// The fuzz target: libFuzzer calls it with each input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProtocol(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    ProtocolFuzzer.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if FUZZING
@_cdecl("fuzz_protocol_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    LibFuzzer.run(argc, argv, fuzzProtocol)
}
#endif

// Built plainly, the program replays the files or folders named on its command line through the same
// target. In the fuzzing build (a library, -parse-as-library) this global is never read, so never runs.
let replayed = FuzzReplay.run(ProtocolFuzzer.run)
