import GearmanFuzzing

/// The fuzz target: libFuzzer calls it with each input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMetadata(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    MetadataFuzzer.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if FUZZING
@_cdecl("fuzz_metadata_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    LibFuzzer.run(argc, argv, fuzzMetadata)
}
#endif

// Built plainly, the program replays the files or folders named on its command line through the same
// target. In the fuzzing build (a library, -parse-as-library) this global is never read, so never runs.
let replayed = FuzzReplay.run(MetadataFuzzer.run)
