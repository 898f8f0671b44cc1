#if FUZZING
/// libFuzzer's driver, for the fuzzing build (`scripts/fuzz.sh` passes -sanitize=fuzzer and -D FUZZING).
/// The package manager links an executable's entry point under its module's name rather than as `main`,
/// so each fuzz target's entry point hands its command line to the driver here.
public enum LibFuzzer {
    public typealias Target = @convention(c) (UnsafePointer<UInt8>, Int) -> CInt

    public static func run(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ target: Target)
        -> CInt
    {
        var count = argc
        var arguments = argv
        return runDriver(&count, &arguments, target)
    }

    @_silgen_name("LLVMFuzzerRunDriver")
    private static func runDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ target: Target
    ) -> CInt
}
#endif
