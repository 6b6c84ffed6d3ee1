package voipbin

import (
	"net/url"
	"testing"
)

// TestFetchURL: every fetch URL Switchboard writes comes out of FetchURL, in
// one order, VoIPBin's variables unencoded (VoIPBin substitutes them as they
// are), everything else escaped, d last; and it reads back what it wrote.
func TestFetchURL(t *testing.T) {
	for _, tt := range []struct {
		u    FetchURL
		want string
	}{
		{FetchURL{Token: "a b&c"}, "/voipbin/fetch?t=a+b%26c"},
		{FetchURL{Base: "https://sb.example/", Token: "x", Lang: "es-ES", To: DialledNumber, From: Var(VarCaller)},
			"https://sb.example/voipbin/fetch?t=x&lang=es-ES&to=${voipbin.call.destination.target}&from=${voipbin.call.source.target}"},
		{FetchURL{Base: "https://h", Token: "x", Digits: Var(VarDigits), To: Var(VarDialled), Rec: "r"},
			"https://h/voipbin/fetch?t=x&to=${voipbin.call.destination.target}&rec=r&d=${voipbin.call.digits}"},
		{FetchURL{Base: "https://h", Path: HandoffPath, Token: "x", Dept: "billing", To: DialledNumber, From: Var(VarCaller)},
			"https://h/voipbin/handoff?t=x&dept=billing&from=${voipbin.call.source.target}&to=${voipbin.call.destination.target}"},
		{FetchURL{Base: "https://h", Path: HandoffAgentPath, Token: "x", Call: "c/1"}, "https://h/voipbin/handoff/agent?t=x&call=c%2F1"},
		{FetchURL{Base: "https://h", Path: CallbackPath, Token: "x", CB: "id", Keyed: true}, "https://h/voipbin/callback?t=x&cb=id&d="},
	} {
		got := tt.u.String()
		if got != tt.want {
			t.Errorf("%+v:\n got %s\nwant %s", tt.u, got, tt.want)
		}
		p, err := url.Parse(got)
		if err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		back := ParseFetchURL(p.Query())
		back.Base, back.Path = tt.u.Base, tt.u.Path
		if back.String() != got {
			t.Errorf("%s read back as %s", got, back.String())
		}
	}
}
