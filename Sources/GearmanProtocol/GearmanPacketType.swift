/// The packet types of the Gearman binary protocol, numbered as in gearmand's `PROTOCOL` file.
/// Type 5 is unused and 43 (SET_WORKER_LOAD) is not part of the protocol; neither is a case here.
public enum GearmanPacketType: UInt32, Sendable, CaseIterable {
    case canDo = 1
    case cantDo = 2
    case resetAbilities = 3
    case preSleep = 4
    case noop = 6
    case submitJob = 7
    case jobCreated = 8
    case grabJob = 9
    case noJob = 10
    case jobAssign = 11
    case workStatus = 12
    case workComplete = 13
    case workFail = 14
    case getStatus = 15
    case echoRequest = 16
    case echoResponse = 17
    case submitJobBackground = 18
    case error = 19
    case statusResponse = 20
    case submitJobHigh = 21
    case setClientID = 22
    case canDoTimeout = 23
    case allYours = 24
    case workException = 25
    case optionRequest = 26
    case optionResponse = 27
    case workData = 28
    case workWarning = 29
    case grabJobUnique = 30
    case jobAssignUnique = 31
    case submitJobHighBackground = 32
    case submitJobLow = 33
    case submitJobLowBackground = 34
    case submitJobScheduled = 35
    case submitJobEpoch = 36
    case submitReduceJob = 37
    case submitReduceJobBackground = 38
    case grabJobAll = 39
    case jobAssignAll = 40
    case getStatusUnique = 41
    case statusResponseUnique = 42

    /// Whether a client or worker may send this type to a server (with `\0REQ` magic).
    public var isRequest: Bool {
        switch self {
        case .canDo, .cantDo, .resetAbilities, .preSleep, .submitJob, .grabJob, .workStatus, .workComplete,
            .workFail, .getStatus, .echoRequest, .submitJobBackground, .submitJobHigh, .setClientID,
            .canDoTimeout, .allYours, .workException, .optionRequest, .workData, .workWarning, .grabJobUnique,
            .submitJobHighBackground, .submitJobLow, .submitJobLowBackground, .submitJobScheduled,
            .submitJobEpoch, .submitReduceJob, .submitReduceJobBackground, .grabJobAll, .getStatusUnique:
            return true
        case .noop, .jobCreated, .noJob, .jobAssign, .echoResponse, .error, .statusResponse, .optionResponse,
            .jobAssignUnique, .jobAssignAll, .statusResponseUnique:
            return false
        }
    }

    /// Whether a server may send this type (with `\0RES` magic).
    public var isResponse: Bool {
        switch self {
        case .workStatus, .workComplete, .workFail, .workException, .workData, .workWarning:
            return true
        default:
            return !isRequest
        }
    }

    /// For SUBMIT_JOB, SUBMIT_JOB_BG and their HIGH and LOW variants, the priority and whether the job runs
    /// in the background; nil for every other type.
    public var plainSubmission: (priority: GearmanPriority, isBackground: Bool)? {
        switch self {
        case .submitJob: (.normal, false)
        case .submitJobBackground: (.normal, true)
        case .submitJobHigh: (.high, false)
        case .submitJobHighBackground: (.high, true)
        case .submitJobLow: (.low, false)
        case .submitJobLowBackground: (.low, true)
        default: nil
        }
    }

    /// The protocol's name for the type, as gearmand prints it.
    public var name: String {
        switch self {
        case .canDo: "CAN_DO"
        case .cantDo: "CANT_DO"
        case .resetAbilities: "RESET_ABILITIES"
        case .preSleep: "PRE_SLEEP"
        case .noop: "NOOP"
        case .submitJob: "SUBMIT_JOB"
        case .jobCreated: "JOB_CREATED"
        case .grabJob: "GRAB_JOB"
        case .noJob: "NO_JOB"
        case .jobAssign: "JOB_ASSIGN"
        case .workStatus: "WORK_STATUS"
        case .workComplete: "WORK_COMPLETE"
        case .workFail: "WORK_FAIL"
        case .getStatus: "GET_STATUS"
        case .echoRequest: "ECHO_REQ"
        case .echoResponse: "ECHO_RES"
        case .submitJobBackground: "SUBMIT_JOB_BG"
        case .error: "ERROR"
        case .statusResponse: "STATUS_RES"
        case .submitJobHigh: "SUBMIT_JOB_HIGH"
        case .setClientID: "SET_CLIENT_ID"
        case .canDoTimeout: "CAN_DO_TIMEOUT"
        case .allYours: "ALL_YOURS"
        case .workException: "WORK_EXCEPTION"
        case .optionRequest: "OPTION_REQ"
        case .optionResponse: "OPTION_RES"
        case .workData: "WORK_DATA"
        case .workWarning: "WORK_WARNING"
        case .grabJobUnique: "GRAB_JOB_UNIQ"
        case .jobAssignUnique: "JOB_ASSIGN_UNIQ"
        case .submitJobHighBackground: "SUBMIT_JOB_HIGH_BG"
        case .submitJobLow: "SUBMIT_JOB_LOW"
        case .submitJobLowBackground: "SUBMIT_JOB_LOW_BG"
        case .submitJobScheduled: "SUBMIT_JOB_SCHED"
        case .submitJobEpoch: "SUBMIT_JOB_EPOCH"
        case .submitReduceJob: "SUBMIT_REDUCE_JOB"
        case .submitReduceJobBackground: "SUBMIT_REDUCE_JOB_BACKGROUND"
        case .grabJobAll: "GRAB_JOB_ALL"
        case .jobAssignAll: "JOB_ASSIGN_ALL"
        case .getStatusUnique: "GET_STATUS_UNIQUE"
        case .statusResponseUnique: "STATUS_RES_UNIQUE"
        }
    }
}
