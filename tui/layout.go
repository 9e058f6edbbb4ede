package tui

import (
	"sort"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// part is one piece of a line that gives way when the line is too wide.
// Giving way goes in three rounds, each from the least important part (the
// highest prio; ties: the rightmost): parts take their shorter forms; a
// cuttable part is cut at a word boundary, with "…"; then parts leave. No
// word is ever cut in two.
type part struct {
	forms []string // styled, longest first
	prio  int
	sep   string // put before the part when it is not the first shown
	cut   bool   // its last form may be cut
	early bool   // its other forms may be cut too, before the next is tried
	// breaks are where a cut may fall (after one of them): " " unless set.
	breaks string
}

// pt is a part of priority prio with its forms, longest first.
func pt(prio int, forms ...string) part { return part{forms: forms, prio: prio, sep: " · "} }

// with sets the separator before the part.
func (p part) with(sep string) part { p.sep = sep; return p }

// cuttable lets the part's last form be cut at a word boundary before the
// part leaves.
func (p part) cuttable() part { p.cut = true; return p }

// cutFirst lets each of the part's forms be cut before the next is tried.
func (p part) cutFirst() part { p.cut, p.early = true, true; return p }

// cutAfter lets a cut fall after any of chars as well as at a space (a
// name's "-" or "/": its words).
func (p part) cutAfter(chars string) part { p.breaks = " " + chars; return p }

// minCut is the fewest cells a cut part keeps; below it the part leaves.
const minCut = 16

// line lays parts out in w cells, padded to w: the three rounds of giving
// way, then the most important parts take back what room is left.
func line(w int, parts ...part) string {
	text := make([]string, len(parts)) // "": gone
	for i, p := range parts {
		if len(p.forms) > 0 {
			text[i] = p.forms[0]
		}
	}
	join := func() string {
		var b strings.Builder
		for i, p := range parts {
			if text[i] == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteString(p.sep)
			}
			b.WriteString(text[i])
		}
		return b.String()
	}
	over := func() int { return lipgloss.Width(join()) - w }
	// Least important first.
	order := make([]int, len(parts))
	for i := range order {
		order[i] = len(parts) - 1 - i
	}
	sort.SliceStable(order, func(a, b int) bool { return parts[order[a]].prio > parts[order[b]].prio })
	for _, i := range order { // shorter forms; a cuttable part is cut before it shortens
		for f := 0; f < len(parts[i].forms) && text[i] != ""; f++ {
			text[i] = parts[i].forms[f]
			o := over()
			if o <= 0 {
				break
			}
			if keep := lipgloss.Width(text[i]) - o; parts[i].early && f < len(parts[i].forms)-1 && keep >= minCut {
				if c := cutAt(text[i], keep, parts[i].breaks); c != "" {
					text[i] = c
					break
				}
			}
		}
	}
	for _, i := range order { // cut
		if o := over(); o > 0 && parts[i].cut && text[i] != "" {
			if keep := lipgloss.Width(text[i]) - o; keep >= minCut {
				if c := cutAt(text[i], keep, parts[i].breaks); c != "" {
					text[i] = c
				}
			}
		}
	}
	for _, i := range order { // leave
		if over() > 0 {
			text[i] = ""
		}
	}
	// Giving way was greedy: now the most important parts take back the
	// longest forms that fit, and parts that left come back if they fit.
	for k := len(order) - 1; k >= 0; k-- {
		i := order[k]
		for _, f := range parts[i].forms {
			if f == text[i] {
				break // the longer forms did not fit
			}
			was := text[i]
			if text[i] = f; over() <= 0 {
				break
			}
			text[i] = was
		}
	}
	return pad(join(), w)
}

// cutWords cuts a styled s to at most w cells at a word boundary and adds
// "…" ("" when not even one word fits).
func cutWords(s string, w int) string { return cutAt(s, w, " ") }

// cutAt cuts a styled s to at most w cells, ending before a space or after
// one of the other break characters, and adds "…" ("" when no break
// fits).
func cutAt(s string, w int, breaks string) string {
	if lipgloss.Width(s) <= w {
		return s
	}
	if breaks == "" {
		breaks = " "
	}
	plain := []rune(ansi.Strip(s))
	end, cells := -1, 0
	for i, r := range plain {
		cells += lipgloss.Width(string(r))
		if cells > w-1 { // room for "…"
			break
		}
		switch {
		case r == ' ' && i > 0 && plain[i-1] != ' ':
			end = cells - 1
		case r != ' ' && strings.ContainsRune(breaks, r):
			end = cells
		}
	}
	if end <= 0 {
		return ""
	}
	return strings.TrimRight(ansi.Truncate(s, end, ""), " ") + "…"
}

// pad pads a styled line to w cells (it must not be wider).
func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(0, w-lipgloss.Width(s)))
}

// fit lays out a single styled text in w cells, cut at a word boundary
// with "…" when too wide.
func fit(s string, w int) string {
	if lipgloss.Width(s) <= w {
		return pad(s, w)
	}
	if c := cutWords(s, w); c != "" {
		return pad(c, w)
	}
	return pad("", w)
}

// sourcesPanel, when set (by tui/sources.go, in an init), draws the per-source panel in w
// columns and at most h rows: "" hides it. It is shown between the charts
// and the numbers when the frame has several sources or a remote target;
// the function decides.
var sourcesPanel func(m Model, w, h int) string
