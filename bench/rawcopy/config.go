package main

import (
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/quic-go/quic-go"
)

// The ALPN names keep these connections apart from lanchat's.
const (
	alpnQUIC = "rawcopy-quic"
	alpnTLS  = "rawcopy-tls"
)

// quicConfig is peer/direct's configuration with its defaults (see
// direct.Options and its quicConfig): the same timeouts and flow-control
// windows, the connection window starting at one and a half stream
// windows. Only the stream limits differ, since one stream is all a copy
// needs.
func quicConfig() *quic.Config {
	initialConn := min(uint64(direct.DefaultInitialStreamReceiveWindow)*3/2, direct.DefaultMaxConnectionReceiveWindow)
	return &quic.Config{
		HandshakeIdleTimeout:           direct.DefaultHandshakeIdleTimeout,
		MaxIdleTimeout:                 direct.DefaultMaxIdleTimeout,
		KeepAlivePeriod:                direct.DefaultKeepAlivePeriod,
		InitialStreamReceiveWindow:     direct.DefaultInitialStreamReceiveWindow,
		MaxStreamReceiveWindow:         direct.DefaultMaxStreamReceiveWindow,
		InitialConnectionReceiveWindow: initialConn,
		MaxConnectionReceiveWindow:     direct.DefaultMaxConnectionReceiveWindow,
		MaxIncomingStreams:             1,
		MaxIncomingUniStreams:          -1,
	}
}

// windows describes the configuration for the result line.
func windows(c *quic.Config) map[string]any {
	return map[string]any{
		"initial_stream_window": c.InitialStreamReceiveWindow,
		"max_stream_window":     c.MaxStreamReceiveWindow,
		"initial_conn_window":   c.InitialConnectionReceiveWindow,
		"max_conn_window":       c.MaxConnectionReceiveWindow,
	}
}
