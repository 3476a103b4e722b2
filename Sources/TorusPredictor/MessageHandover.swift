/// A message on its way: sender, sending and receiving stream, the sender's op, where its head is.
struct Message {
    var src: Int32
    /// The sending stream, and the receiving stream (same position on the destination rank).
    var stream: Int32
    var target: Int32
    var serial: Int32
    var bytes: Int
    var node: Int
    var destination: Int
}

/// What one partition hands another at the end of a window: a message that arrived (for the
/// receiver), the completion of a send (for the sender), or a message whose head enters a node of
/// the other partition. Payload mode: the message's data, when it goes to another partition.
struct Handover {
    enum Kind: UInt8 { case deliver, sendDone, hop }
    var kind: Kind
    var time: Double
    var message: Message
    var payload: [UInt8]?
}

