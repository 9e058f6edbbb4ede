package cli

import "fmt"

// ignored is an engine flag a command takes with the others but has no
// use for, and what to use instead.
type ignored struct{ flag, instead string }

// refuseIgnored fails when one of flags was given on the command line:
// every engine command embeds EngineFlags, and a flag that a command would
// silently ignore (dash --json) is a mistake the user should hear about.
func (f *EngineFlags) refuseIgnored(command string, flags ...ignored) error {
	for _, x := range flags {
		if f.given[x.flag] {
			return fmt.Errorf("--%s: %s does not use it (%s)", x.flag, command, x.instead)
		}
	}
	return nil
}
