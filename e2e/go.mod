module github.com/tokctl/tokctl/e2e

go 1.26.8

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/tokctl/tokctl v0.0.0
	golang.org/x/oauth2 v0.38.0
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/danieljoos/wincred v1.2.3 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/godbus/dbus/v5 v5.2.2 // indirect
	github.com/gofrs/flock v0.13.2 // indirect
	github.com/zalando/go-keyring v0.2.8 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/tokctl/tokctl => ../
