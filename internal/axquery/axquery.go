// Package axquery finds elements of a page in Chromium by ARIA role and
// accessible name, through the browser's own accessibility tree
// (Accessibility.queryAXTree), the way a screen reader sees the page and
// Playwright's getByRole finds things. The web app's browser tests
// (e2e/webapp_*_test.go) and its benchmark (bench/webload) use it with
// chromedp.
package axquery

import (
	"context"
	"encoding/json"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"
)

// ByRole is a chromedp query option that selects the elements whose
// computed role is role, that the accessibility tree does not ignore
// (hidden ones), and whose accessible name match accepts. The selector
// given with it is only a label: chromedp.Click("", axquery.ByRole(...)).
func ByRole(role string, match func(name string) bool) chromedp.QueryOption {
	return chromedp.ByFunc(func(ctx context.Context, tg *chromedp.Target, root *chromedp.Node) ([]cdp.NodeID, error) {
		nodes, err := query(ctx, tg, root.NodeID, role)
		if err != nil {
			return nil, err
		}
		var backend []cdp.BackendNodeID
		for _, n := range nodes {
			if n.BackendDOMNodeID != 0 && match(Name(n)) {
				backend = append(backend, n.BackendDOMNodeID)
			}
		}
		if len(backend) == 0 {
			return nil, nil
		}
		pushed, err := cdp.Call(ctx, tg, dom.PushNodesByBackendIDsToFrontend, dom.PushNodesByBackendIDsToFrontendParams{BackendNodeIDs: backend})
		if err != nil {
			return nil, err
		}
		return pushed.NodeIDs, nil
	})
}

// Names returns the accessible names of the page's elements of a role, in
// document order, without waiting.
func Names(role string) chromedp.Action[[]string] {
	return func(ctx context.Context, tg *chromedp.Target) ([]string, error) {
		doc, err := cdp.Call(ctx, tg, dom.GetDocument, dom.GetDocumentParams{})
		if err != nil {
			return nil, err
		}
		nodes, err := query(ctx, tg, doc.Root.NodeID, role)
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(nodes))
		for _, n := range nodes {
			out = append(out, Name(n))
		}
		return out, nil
	}
}

// query returns the nodes under root with role that are not ignored.
func query(ctx context.Context, tg *chromedp.Target, root cdp.NodeID, role string) ([]*accessibility.Node, error) {
	res, err := cdp.Call(ctx, tg, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{NodeID: root, Role: role})
	if err != nil {
		return nil, err
	}
	out := res.Nodes[:0]
	for _, n := range res.Nodes {
		if !n.Ignored {
			out = append(out, n)
		}
	}
	return out, nil
}

// Name returns the accessible name of an accessibility node.
func Name(n *accessibility.Node) string {
	if n.Name == nil || len(n.Name.Value) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal(n.Name.Value, &s); err != nil {
		return ""
	}
	return s
}
