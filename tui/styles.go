package tui

import "charm.land/lipgloss/v2"

// Styles holds every colour and border of the dashboard, built in one place.
type Styles struct {
	Header, Settings, State, Paused, Panel, Title, Value, Dim, Marker, Error, Status, Help, Box, Bottleneck lipgloss.Style
	Spark                                                                                                   lipgloss.Style
}

// DefaultStyles are the dashboard's styles; the renderer downgrades the
// colours on terminals that have fewer.
func DefaultStyles() Styles {
	accent := lipgloss.Color("#7D56F4")
	return Styles{
		Header:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FAFAFA")).Background(accent).Padding(0, 1),
		Settings: lipgloss.NewStyle().Foreground(lipgloss.Color("#A8A8A8")),
		State:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#04B575")),
		Paused:   lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFB000")),
		Panel:    lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(lipgloss.Color("#444444")).Padding(0, 1),
		Title:    lipgloss.NewStyle().Bold(true),
		Value:    lipgloss.NewStyle().Foreground(lipgloss.Color("#04B575")),
		Dim:      lipgloss.NewStyle().Foreground(lipgloss.Color("#767676")),
		Marker:   lipgloss.NewStyle().Foreground(lipgloss.Color("#FF5F87")),
		Error:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FF5F5F")),
		Status:   lipgloss.NewStyle().Foreground(lipgloss.Color("#A8A8A8")),
		Help:     lipgloss.NewStyle().Foreground(lipgloss.Color("#767676")),
		Box:      lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).BorderForeground(accent).Padding(1, 2),
		Spark:    lipgloss.NewStyle().Foreground(lipgloss.Color("#5FAFFF")),
		// The bottleneck's kind: what the eye should find first.
		Bottleneck: lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFB000")),
	}
}
