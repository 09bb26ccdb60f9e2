package daemon

import (
	"golang.org/x/sys/windows"
)

// bonjourService is the service Apple's Bonjour for Windows installs.
const bonjourService = "Bonjour Service"

func systemResponder() responder {
	r := responder{name: "Bonjour"}
	m, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		r.detail = "cannot ask the service manager: " + err.Error()
		return r
	}
	defer windows.CloseServiceHandle(m)
	name, _ := windows.UTF16PtrFromString(bonjourService)
	s, err := windows.OpenService(m, name, windows.SERVICE_QUERY_STATUS)
	if err != nil {
		r.detail = "not installed"
		return r
	}
	defer windows.CloseServiceHandle(s)
	var st windows.SERVICE_STATUS
	if err := windows.QueryServiceStatus(s, &st); err != nil {
		r.detail = "cannot query the " + bonjourService + ": " + err.Error()
		return r
	}
	r.running = st.CurrentState == windows.SERVICE_RUNNING
	r.detail = "the " + bonjourService
	return r
}

// warnIfStopped: Bonjour is optional on Windows.
func (responder) warnIfStopped() bool { return false }
