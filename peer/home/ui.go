package home

// uiFile remembers the web app's loopback port.
const uiFile = "ui.json"

type uiPort struct {
	Port int `json:"port"`
}

// UIPort returns the TCP port the web app listened on last time, or 0.
// Keeping it lets a bookmark or an open tab find the app again after the
// daemon restarts.
func (h *Home) UIPort() int {
	var p uiPort
	if err := h.readJSON(uiFile, &p); err != nil || p.Port < 1 || p.Port > 65535 {
		return 0
	}
	return p.Port
}

// SaveUIPort records the web app's TCP port.
func (h *Home) SaveUIPort(port int) error {
	return h.writeJSON(uiFile, uiPort{Port: port})
}

// UploadsDir is where the web app keeps the files a browser hands over
// for sending, until their transfers are done.
func (h *Home) UploadsDir() string { return h.path("uploads") }
