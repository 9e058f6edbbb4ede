package cli

import "github.com/alecthomas/kong"

// AfterApply notes which flags the command line set, so that an unset
// engine flag is "auto" and a given one, even 0, is the user's (kong calls
// it once the flags are parsed).
func (f *EngineFlags) AfterApply(kctx *kong.Context) error {
	f.given = map[string]bool{}
	for _, p := range kctx.Path {
		if p.Flag != nil {
			f.given[p.Flag.Name] = true
		}
	}
	return nil
}

// MaxCPUMemoryGiB bounds --cpu-memory so that its bytes fit an int64 with
// room to spare (64 TiB is far above any machine's memory).
const MaxCPUMemoryGiB = 1 << 16
