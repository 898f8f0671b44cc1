import Gearman
import Testing

/// The `CODE: description` convention of WORK_EXCEPTION texts.
@Suite struct ExceptionTextTests {
    @Test func aCodeGoesAheadOfTheDescriptionAndReadsBack() {
        let text = GearmanExceptionText.make(code: "TOO_MANY_PIXELS", description: "too large: 9x9 exceeds 0 MP")
        #expect(text == "TOO_MANY_PIXELS: too large: 9x9 exceeds 0 MP")
        #expect(GearmanExceptionText.code(of: text) == "TOO_MANY_PIXELS")
        #expect(GearmanExceptionText.description(of: text) == "too large: 9x9 exceeds 0 MP")
        let error = GearmanError.workException(handle: "H:x:1", message: text)
        #expect(error.code == .workException && error.exceptionCode == "TOO_MANY_PIXELS")
    }

    @Test(arguments: [
        "too large: 9x9", "Too_LARGE: x", "1CODE: x", "CODE:x", "CODE", "", ": x", "A B: x",
        String(repeating: "A", count: 65) + ": x",
    ])
    func textWithoutAValidCodeHasNone(text: String) {
        #expect(GearmanExceptionText.code(of: text) == nil)
        #expect(GearmanExceptionText.description(of: text) == text)
    }

    @Test func anInvalidCodeIsLeftOut() {
        #expect(GearmanExceptionText.make(code: "not a code", description: "it broke") == "it broke")
    }

    @Test func codesOtherThanWorkExceptionCarryNoExceptionCode() {
        #expect(GearmanError.serverError(code: "QUEUE_ERROR", message: "CODE: x").exceptionCode == nil)
        #expect(GearmanError.timeout.code == .timeout && GearmanError.timeout.code.rawValue == "TIMEOUT")
    }
}
