// Package linearizability checks that a history of client operations is
// linearizable, with porcupine (github.com/anishathalye/porcupine).
//
// A [Recorder] collects the history as client goroutines run: each operation
// is a [Recorder.Call], finished by [Call.Return] (with the output),
// [Call.Timeout] (the outcome is unknown) or [Call.Fail] (it certainly did
// not take effect). [Check] then searches for a linearization against a
// model ([KVModel], [KVModelUnpartitioned] or [RegisterModel]) within a time
// budget and, when there is none, writes porcupine's visualisation and says
// in words which operation could not follow the longest linearizable prefix.
//
// A history is linearizable if its operations can be put in one sequential
// order that the model accepts and that keeps the real-time order: if
// operation a returned before operation b was called, a comes first.
// docs/linearizability.md explains the recording, the models and how to
// read the visualisation.
package linearizability
