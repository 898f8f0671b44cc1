/// Which GRAB_JOB variant a worker sent, and so which JOB_ASSIGN variant it expects.
public enum GearmanGrabMode: Sendable, Hashable {
    /// GRAB_JOB, answered by JOB_ASSIGN.
    case plain
    /// GRAB_JOB_UNIQ, answered by JOB_ASSIGN_UNIQ.
    case unique
    /// GRAB_JOB_ALL, answered by JOB_ASSIGN_ALL for reduce jobs and JOB_ASSIGN_UNIQ otherwise.
    case all
}
