module github.com/raftspec/raftspec

go 1.26
