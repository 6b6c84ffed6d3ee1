module github.com/switchboard/switchboard

go 1.26.8

require github.com/looplab/fsm v1.0.3
