@testable import TorusCore

/// Every (type, op) pair MPI defines.
let allTypeOpPairs: [(ElementType, ReduceOp)] = ElementType.allCases.flatMap { t in
    ReduceOp.supported(by: t).map { (t, $0) }
}
