package diagnose

import (
	"strings"
	"testing"
)

// Hydra logs every request when it completes (level info): a POST to /oauth2/token with status
// 200 is a refresh that succeeded, 400 one that was refused. Both are read, in the JSON and the
// text layout, so a burst in Hydra's log alone is judged.
func TestHydraSuccessesAreRead(t *testing.T) {
	const req = `{"audience":"application","http_request":{"headers":{"accept":"application/json","content-type":"application/x-www-form-urlencoded","user-agent":"Go-http-client/1.1"},"host":"127.0.0.1:4444","method":"POST","path":"/oauth2/token","query":null,"remote":"127.0.0.1:53012","scheme":"http"},"http_response":{"headers":{"cache-control":"no-store","content-type":"application/json;charset=UTF-8"},"size":1143,"status":STATUS,"text_status":"TEXT","took":31432104},"level":"info","msg":"completed handling request","service_name":"Ory Hydra","service_version":"v2.3.0","time":"2026-10-10T13:55:36.TIMEZ"}`
	line := func(ms, status, text string) string {
		r := []byte(req)
		for _, kv := range [][2]string{{"STATUS", status}, {"TEXT", text}, {"TIME", ms}} {
			r = []byte(strings.Replace(string(r), kv[0], kv[1], 1))
		}
		return string(r) + "\n"
	}
	jsonLog := line("100", "200", "OK") + line("130", "400", "Bad Request") + line("160", "400", "Bad Request")
	textLog := `time="2026-10-10T13:55:36Z" level=info msg="completed handling request" audience=application http_request="map[headers:map[content-type:application/x-www-form-urlencoded] host:127.0.0.1:4444 method:POST path:/oauth2/token query:<nil> remote:127.0.0.1:53012 scheme:http]" http_response="map[size:1143 status:200 text_status:OK took:31.4ms]" service_name="Ory Hydra" service_version=v2.3.0
time="2026-10-10T13:55:36Z" level=info msg="completed handling request" audience=application http_request="map[headers:map[content-type:application/x-www-form-urlencoded] host:127.0.0.1:4444 method:POST path:/oauth2/token query:<nil> remote:127.0.0.1:53020 scheme:http]" http_response="map[size:310 status:400 text_status:Bad Request took:9.1ms]" service_name="Ory Hydra" service_version=v2.3.0
`
	for _, c := range []struct{ name, log, format string }{{"json", jsonLog, "hydra"}, {"text", textLog, "text"}} {
		t.Run(c.name, func(t *testing.T) {
			r := readString(t, Options{}, "hydra.log", c.log)
			in := r.Inputs[0]
			if in.Format != c.format || in.Outcomes["success"] != 1 || in.Outcomes["failure"] == 0 {
				t.Fatalf("input %+v: want %s, 1 success and the refusals", in, c.format)
			}
			if len(r.Incidents) != 1 || r.Incidents[0].Verdict != Race || r.Incidents[0].Successes != 1 {
				t.Fatalf("incidents %+v, want one race tied to the success", r.Incidents)
			}
		})
	}
}

// Dex refuses a refresh token presented twice and says so ("claimed twice", in its logrus
// and its slog layouts); it logs no successful refresh, so its log alone shows refusals only.
func TestDexClaimedTwiceIsARefusal(t *testing.T) {
	log := `time="2026-10-10T13:55:36Z" level=error msg="refresh token with id ak2xvt3ehgqfm7dsq4ynrjwkl claimed twice"
time=2026-10-10T13:55:36.120Z level=ERROR msg="refresh token claimed twice" token_id=ak2xvt3ehgqfm7dsq4ynrjwkl
`
	r := readString(t, Options{}, "dex.log", log)
	if in := r.Inputs[0]; in.Entries != 2 || in.Outcomes["failure"] != 2 {
		t.Fatalf("input %+v: want both lines read as refusals", in)
	}
}
