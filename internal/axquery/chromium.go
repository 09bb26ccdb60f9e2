package axquery

import (
	"errors"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// ErrNoChromium means no Chromium was found on the PATH.
var ErrNoChromium = errors.New("no Chromium found (install it with: apt-get install -y chromium)")

// FindChromium returns the path of the Chromium to drive: given if not
// empty, else the first Chromium or Chrome on the PATH.
func FindChromium(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Options are the allocator options of a headless Chromium at exe with
// its own profile directory and window size. It makes no request of its
// own to any other host (no updates, sync, crash reports or background
// networking), and tabs that are not in front run at full speed.
func Options(exe, profile string, width, height int) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-crash-reporter", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
	}
}
