package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// On Windows the server runs as a service of the service manager,
// "lanchat-rendezvous", started at boot under the low-privilege
// LocalService account, with its data (and its log, rendezvous.log) in
// %ProgramData%\lanchat\rendezvous unless --data says otherwise.

const serviceName = "lanchat-rendezvous"

// runAsService runs the server under the service manager when that is
// who started the process; ok is false otherwise.
func runAsService(args []string) (code int, ok bool) {
	is, err := svc.IsWindowsService()
	if err != nil || !is {
		return 0, false
	}
	if err := svc.Run(serviceName, &service{args: args}); err != nil {
		return 1, true
	}
	return 0, true
}

// service is the svc.Handler: it runs serve until the manager says stop.
type service struct{ args []string }

func (s *service) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	args := s.args
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	logw := io.Discard
	if f, err := os.OpenFile(filepath.Join(dataFlag(args), "rendezvous.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
		defer f.Close()
		logw = f
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, args, logw, logw) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintf(logw, "rendezvous: %v\n", err)
				return true, 1
			}
			return false, 0
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: 15000}
				cancel()
				<-done
				return false, 0
			}
		}
	}
}

// cmdService runs "rendezvous service install|uninstall|status".
func cmdService(args []string, stdout, _ io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: rendezvous service install [serve flags] | uninstall | status", errUsage)
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service manager (run as administrator): %w", err)
	}
	defer m.Disconnect()
	switch args[0] {
	case "install":
		return installService(m, args[1:], stdout)
	case "uninstall":
		return uninstallService(m, stdout)
	case "status":
		s, err := m.OpenService(serviceName)
		if err != nil {
			fmt.Fprintln(stdout, "not installed")
			return nil
		}
		defer s.Close()
		st, err := s.Query()
		if err != nil {
			return fmt.Errorf("query %s: %w", serviceName, err)
		}
		fmt.Fprintf(stdout, "%s: %s\n", serviceName, stateName(st.State))
		return nil
	}
	return fmt.Errorf("%w: unknown service command %q", errUsage, args[0])
}

func installService(m *mgr.Mgr, args []string, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find rendezvous.exe: %w", err)
	}
	data := dataFlag(args)
	if data == "" {
		data = filepath.Join(os.Getenv("ProgramData"), "lanchat", "rendezvous")
		args = append([]string{"--data", data}, args...)
	}
	abs, err := filepath.Abs(data)
	if err != nil {
		return fmt.Errorf("--data %s: %w", data, err)
	}
	if abs != data {
		return fmt.Errorf("%w: --data must be an absolute path for a service, not %s", errUsage, data)
	}
	s, err := m.CreateService(serviceName, exe, mgr.Config{
		DisplayName:      "lanchat rendezvous server",
		Description:      "Accounts, presence and the sealed relay for lanchat peers on this network.",
		StartType:        mgr.StartAutomatic,
		DelayedAutoStart: true,
		ServiceStartName: `NT AUTHORITY\LocalService`,
		SidType:          windows.SERVICE_SID_TYPE_UNRESTRICTED,
	}, append([]string{"serve"}, args...)...)
	if err != nil {
		return fmt.Errorf("create service %s: %w", serviceName, err)
	}
	defer s.Close()
	if err := serviceDataDir(data); err != nil {
		s.Delete()
		return err
	}
	if err := s.SetRecoveryActions([]mgr.RecoveryAction{{Type: mgr.ServiceRestart, Delay: 5 * time.Second}}, 86400); err != nil {
		return fmt.Errorf("set restart on failure: %w", err)
	}
	if err := s.Start(); err != nil {
		return fmt.Errorf("start %s: %w", serviceName, err)
	}
	fmt.Fprintf(stdout, "installed and started %s (data and log in %s); fingerprint: rendezvous fingerprint --data %q\n", serviceName, data, data)
	return nil
}

// serviceDataDir makes the data directory with an access list for the
// system, administrators and this service alone (its service SID, NT
// SERVICE\lanchat-rendezvous, which exists once the service does).
func serviceDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	sid, _, _, err := windows.LookupSID("", `NT SERVICE\`+serviceName)
	if err != nil {
		return fmt.Errorf("the service's SID: %w", err)
	}
	sd, err := windows.SecurityDescriptorFromString("D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;" + sid.String() + ")")
	if err != nil {
		return fmt.Errorf("access list: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("access list: %w", err)
	}
	return windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}

func uninstallService(m *mgr.Mgr, stdout io.Writer) error {
	s, err := m.OpenService(serviceName)
	if err != nil {
		fmt.Fprintln(stdout, "not installed: nothing to remove")
		return nil
	}
	defer s.Close()
	if st, err := s.Control(svc.Stop); err == nil {
		for i := 0; i < 30 && st.State != svc.Stopped; i++ {
			time.Sleep(500 * time.Millisecond)
			if st, err = s.Query(); err != nil {
				break
			}
		}
	}
	if err := s.Delete(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_MARKED_FOR_DELETE) {
		return fmt.Errorf("delete %s: %w", serviceName, err)
	}
	fmt.Fprintf(stdout, "stopped and removed %s; its data directory stays\n", serviceName)
	return nil
}

func stateName(s svc.State) string {
	switch s {
	case svc.Stopped:
		return "stopped"
	case svc.StartPending:
		return "starting"
	case svc.StopPending:
		return "stopping"
	case svc.Running:
		return "running"
	}
	return fmt.Sprintf("state %d", s)
}
