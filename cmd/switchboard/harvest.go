package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/switchboard/switchboard/cmd/switchboard/internal/eval"
	"github.com/switchboard/switchboard/cmd/switchboard/internal/service"
)

// runHarvest is `switchboard harvest`: it turns the server's log (run with
// --log-transcripts) into a labelled conversation file for review.
func runHarvest(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("harvest", stdout, stderr)
	out := fs.String("out", "", "write the conversations to `FILE` (default: standard output)")
	cfgFile := fs.String("config", "", "routing config the server ran with, for its fallback desk (default: the embedded example)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("harvest: name the log files to read (switchboard serve --log-transcripts writes them)")
	}
	cfg, err := service.LoadConfig(*cfgFile)
	if err != nil {
		return fmt.Errorf("harvest: %w", err)
	}
	var all []eval.Conversation
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("harvest: %w", err)
		}
		convs, st, err := eval.Harvest(f, "harvest:"+path, cfg.Routing.Fallback.Destination)
		f.Close()
		if err != nil {
			return fmt.Errorf("harvest %s: %w", path, err)
		}
		fmt.Fprintf(stderr, "%s: %d lines, %d labelled calls, %d routed calls logged without transcripts, %d never routed\n",
			path, st.Lines, st.Calls, st.NoTranscripts, st.Unrouted)
		all = append(all, convs...)
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("harvest: %w", err)
		}
		defer f.Close()
		w = f
	}
	return eval.WriteJSONL(w, all)
}
