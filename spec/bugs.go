package spec

import "github.com/raftspec/raftspec/invariants"

// PlantedBug is a planted bug with bounds within which the checker finds
// it. TestPlantedBugs holds every row; raftspec mc quotes a row when a run
// that planted the bug found nothing; docs/spec.md tabulates them.
type PlantedBug struct {
	Bug Bug
	// Config is the bounds: 3 servers, 1 value, MaxInFlight 1, symmetry,
	// with Bug planted.
	Config Config
	// Property is the property broken there, and Steps the length of the
	// shortest counterexample, the same on every run, unlike the number
	// of states explored before the violation (docs/spec.md).
	Property string
	Steps    int
}

// PlantedBugs returns the planted bugs, in the order of the Bug constants.
func PlantedBugs() []PlantedBug {
	row := func(b Bug, maxTerm, maxLog int, noHistory bool, prop string, steps int) PlantedBug {
		return PlantedBug{
			Bug: b,
			Config: Config{Servers: 3, Values: 1, MaxTerm: maxTerm, MaxLog: maxLog, MaxInFlight: 1,
				Symmetry: true, NoHistory: noHistory, Bug: b},
			Property: prop,
			Steps:    steps,
		}
	}
	return []PlantedBug{
		// §5.4.2, Figure 8: a leader of term 4 commits an entry of term 2
		// by counting replicas, while a server holding an entry of term 3
		// could still be elected and overwrite it. Without the spec's own
		// properties this needs a fifth term, in which that server is
		// elected (-figure3only -maxterm 5: 38 steps, tens of seconds).
		// Without the history variables: the same violation after fewer
		// states.
		row(BugFigure8, 4, 1, true, ElectableCompletenessName, 30),
		row(BugVoteNoUpToDate, 3, 1, false, invariants.LeaderCompletenessName, 19),
		row(BugForgetVote, 2, 0, false, invariants.ElectionSafetyName, 12),
		row(BugNoPrevLogCheck, 4, 2, true, invariants.LogMatchingName, 25),
		row(BugFastBackupSkip, 3, 2, false, ElectableCompletenessName, 20),
	}
}
