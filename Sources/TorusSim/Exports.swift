// `import TorusSim` brings the whole Swift API of a laptop user: the core types, the schedules, the
// runtime's `Communicator` and `allReduce`, and the predictor.
@_exported import TorusCore
@_exported import TorusPredictor
@_exported import TorusRuntime
@_exported import TorusSchedules
