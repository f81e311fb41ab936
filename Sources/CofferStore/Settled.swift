import CofferCore

/// What a write body has to report once its transaction has settled — a metric of a judged code,
/// say — done once however many times the body ran. A cluster's SERIALIZABLE transactions run a
/// body again after a conflict; an action recorded by an attempt that runs again is dropped, and
/// the last attempt's run once it committed or failed with the body's own error. On the data
/// folder a body runs once, and so does the action, at once.
public enum Settled {
    final class Holder { var actions: [() -> Void]? }
    private static let holder = PerThread { Holder() }

    /// Runs `action` when the write transaction this thread is running settles (at once when none is).
    public static func run(_ action: @escaping () -> Void) {
        let holder = holder.value
        if holder.actions != nil { holder.actions?.append(action) } else { action() }
    }

    /// Starts recording one attempt's actions; returns what was recorded before (a nested transaction).
    static func begin() -> [() -> Void]? {
        let holder = holder.value
        defer { holder.actions = [] }
        return holder.actions
    }

    /// The attempt's actions, and recording as it was before `begin`.
    static func end(restoring previous: [() -> Void]?) -> [() -> Void] {
        let holder = holder.value
        defer { holder.actions = previous }
        return holder.actions ?? []
    }
}
