package direct

import (
	"testing"
	"time"
)

func TestOptionsDefaults(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.MaxIdleTimeout != DefaultMaxIdleTimeout || o.KeepAlivePeriod != DefaultKeepAlivePeriod ||
		o.StreamKindTimeout != DefaultStreamKindTimeout || o.Logger == nil {
		t.Fatalf("defaults not applied: %+v", o)
	}
	// A short idle timeout pulls the keep-alive period below it.
	o, err = Options{MaxIdleTimeout: 10 * time.Second}.withDefaults()
	if err != nil || o.KeepAlivePeriod != 5*time.Second {
		t.Fatalf("keep-alive %v, err %v; want 5s", o.KeepAlivePeriod, err)
	}
	// Windows raised above the defaults drag the larger ones along.
	o, err = Options{InitialStreamReceiveWindow: 100 << 20}.withDefaults()
	if err != nil || o.MaxStreamReceiveWindow != 100<<20 || o.MaxConnectionReceiveWindow != 100<<20 {
		t.Fatalf("windows %d/%d, err %v", o.MaxStreamReceiveWindow, o.MaxConnectionReceiveWindow, err)
	}
}

func TestOptionsInvalid(t *testing.T) {
	tests := map[string]Options{
		"negative idle timeout":       {MaxIdleTimeout: -time.Second},
		"negative kind timeout":       {StreamKindTimeout: -time.Second},
		"keep-alive after idle":       {MaxIdleTimeout: time.Second, KeepAlivePeriod: 2 * time.Second},
		"initial above stream max":    {InitialStreamReceiveWindow: 2 << 20, MaxStreamReceiveWindow: 1 << 20},
		"stream above connection max": {MaxStreamReceiveWindow: 8 << 20, MaxConnectionReceiveWindow: 4 << 20},
		"negative stream limit":       {MaxIncomingStreams: -1},
	}
	for name, o := range tests {
		if _, err := o.withDefaults(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestQUICConfigSides(t *testing.T) {
	o, _ := Options{}.withDefaults()
	dial, listen := o.quicConfig(true), o.quicConfig(false)
	// Only the dialling side takes a unidirectional stream: the welcome.
	if dial.MaxIncomingUniStreams != 1 || listen.MaxIncomingUniStreams >= 0 {
		t.Fatalf("uni streams: dial %d, listen %d", dial.MaxIncomingUniStreams, listen.MaxIncomingUniStreams)
	}
	if dial.InitialConnectionReceiveWindow < dial.InitialStreamReceiveWindow {
		t.Fatal("connection window smaller than one stream's")
	}
}
