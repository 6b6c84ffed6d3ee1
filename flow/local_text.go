package flow

import (
	"strings"
	"unicode"
)

// This file turns text into the local classifier's features: words are
// lower-cased, contractions expanded, stopwords dropped, stemmed and mapped
// onto a synonym's canonical stem; adjacent content words also form bigrams.
// The tables are general English, not any one business's words: what a
// business calls things belongs in its config's keywords and examples.

// apostrophes straightens typographic apostrophes and splits "cannot".
var apostrophes = strings.NewReplacer("’", "'", "‘", "'", "cannot", "can not")

// tokens splits text into lower-case words, expanding contractions so that
// "can't" and "cannot" agree, and dropping numbers (account and policy
// numbers say nothing about the department).
func tokens(text string) []string {
	text = strings.ToLower(apostrophes.Replace(text))
	var out []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' }) {
		w = strings.Trim(w, "'")
		if w == "" || strings.IndexFunc(w, unicode.IsDigit) >= 0 {
			continue
		}
		if i := strings.IndexByte(w, '\''); i > 0 {
			head, tail := w[:i], w[i+1:]
			switch tail {
			case "t":
				switch head {
				case "won":
					head = "will"
				case "can":
				default:
					head = strings.TrimSuffix(head, "n")
				}
				out = append(out, head, "not")
				continue
			case "s", "m", "re", "ve", "ll", "d":
				w = head
			default:
				w = strings.ReplaceAll(w, "'", "")
			}
		}
		out = append(out, w)
	}
	return out
}

// stopwords carry no department: function words, greetings, courtesy and the
// verbs every request uses ("I need help with ..."). Negations are kept,
// because "not working" and "don't recognize" mean something.
var stopwords = wordSet(`a an the i me my mine myself we us our ours you your yours it its itself they them their
	he him his she her this that these those there here what which who whom whose when where why how
	is am are was were be been being do does did doing done have has had having will would shall should
	can could may might must ought to of in on at by for from with about as into onto over under up out off
	than then so too very just also only again still already yet ever even really quite some any all each every
	and or but if because while though although since until both either neither whether
	hi hello hey hiya howdy hola yo greetings morning afternoon evening night day today tonight good great fine
	nice lovely beautiful wonderful fine okay ok yes yeah yep sure well oh um uh er ah hmm
	please pls plz thanks thank thankyou cheers sir madam maam mam friend dear guys folks there
	name called speaking calling call this is im
	need needs needed want wants wanted wanting wanna like would'd love wish hope trying try tried looking look
	help helping assist assistance kindly possible able get getting got go going gonna make let know tell
	give find see said say saying thing things something anything stuff way ways bit little lot lots
	question questions query ask asking wondering info information detail details regarding related
	one ones two first last new now time times ago soon right`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// synonyms maps words onto one canonical word before stemming, so that a
// config saying "buy" also hears "purchase". Each line is a group; the
// first word is the canonical one.
var synonyms = synonymTable(`
	buy purchase purchasing bought buying
	price pricing cost costs priced prices rate rates fee fees charges
	quote quotation estimate
	discount discounts offer offers deal deals promo promotion coupon voucher sale
	cancel cancellation cancelation terminate termination discontinue
	refund refunds reimbursement reimburse
	invoice invoices
	bill bills billed billing
	pay paid paying payment payments repay
	instalment instalments installment installments financing finance
	balance balances
	password passcode passwords
	login log-in signin sign-in logon
	address addresses
	phone mobile cellphone smartphone cell
	lost lose losing misplaced misplace missing
	stolen stole steal stealing theft thief robbed robbery mugged pickpocketed
	fraud fraudulent scam scammed fraudster
	suspicious shady dodgy fishy
	hacked hack hacker breached breach compromised
	accident crash crashed collision wreck
	deliver delivery delivered delivering shipping ship shipped shipment dispatch dispatched courier
	parcel package
	warranty guarantee
	return returns returning
	replace replacement replacements exchange
	enroll enrol enrolling enrolment enrollment signup
	insure insurance insured coverage
	automatic auto autopay
	frequency often
	broken broke faulty defective
	error errors bug bugs glitch
	agent agents representative broker
	dependent dependents dependant dependants
`)

func synonymTable(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		words := strings.Fields(line)
		for _, w := range words {
			m[w] = words[0]
		}
	}
	return m
}

// stem strips common English suffixes. It need not yield real words, only
// the same stem for a word's forms: "charges", "charged" and "charge" all
// become "charg"; "billing" and "bill" become "bil".
func stem(w string) string {
	if len(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	}
	for _, suf := range []string{"ingly", "edly", "ing", "ed", "ly", "ation", "ions", "ion", "er"} {
		if len(w)-len(suf) >= 3 && strings.HasSuffix(w, suf) && hasVowel(w[:len(w)-len(suf)]) {
			w = w[:len(w)-len(suf)]
			break
		}
	}
	w = strings.TrimSuffix(w, "e")
	if strings.HasSuffix(w, "y") && len(w) > 3 {
		w = w[:len(w)-1] + "i"
	}
	// Undouble a final consonant everywhere, so "bill" and "billing" (bil),
	// "cancel" and "cancelled" (cancel) agree.
	if n := len(w); n > 2 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiou", rune(w[n-1])) {
		w = w[:n-1]
	}
	return w
}

func hasVowel(s string) bool { return strings.ContainsAny(s, "aeiouy") }

// normalize turns one word into its feature form, or "" for a stopword.
func normalize(w string) string {
	if stopwords[w] {
		return ""
	}
	if c, ok := synonyms[w]; ok {
		w = c
	}
	if len(w) < 2 {
		return ""
	}
	return stem(w)
}

// phrases joins general multi-word expressions before splitting, e.g. "log
// in" to "login", so that a phrase and its short form are one feature.
var phrases = strings.NewReplacer(
	"sign up", "signup",
	"log in", "login",
	"sign in", "login",
	"log on", "login",
	"zip code", "zipcode",
	"postal code", "zipcode",
	"post code", "zipcode",
	"e mail", "email",
	"e-mail", "email",
	"check up", "checkup",
	"set up", "setup",
	"money back", "refund",
	"how much do i owe", "owe",
	"how much do we owe", "owe",
	"how much", "price",
	"place an order", "purchase",
	"place order", "purchase",
	"can not find", "lost",
	"can't find", "lost",
	"cant find", "lost",
	"do not know where", "lost",
	"don't know where", "lost",
	"dont know where", "lost",
)

// segments returns the feature words of text, split where punctuation
// breaks it, so that bigrams join only words of one clause: "quotes, pricing"
// in a description is two topics, not a phrase.
func segments(text string) [][]string {
	text = phrases.Replace(strings.ToLower(text))
	var out [][]string
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(",.;:!?()/&|\n\"", r) }) {
		var seg []string
		for _, t := range tokens(part) {
			if ownedForms[t] {
				continue // its meaning, @owned, is the feature
			}
			if f := normalize(t); f != "" {
				seg = append(seg, f)
			}
		}
		if len(seg) > 0 {
			out = append(out, seg)
		}
	}
	return out
}

// bigram names two adjacent feature words in either order: "card lost" and
// "lost card" are the same evidence.
func bigram(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + "+" + b
}

// ContentWords returns the words of text that can carry a department, as
// said (lower-cased, contractions expanded, stopwords and numbers dropped),
// for reports that show people which words decided.
func ContentWords(text string) []string {
	var out []string
	for _, t := range tokens(text) {
		if !stopwords[t] && t != "not" && len(t) > 1 {
			out = append(out, t)
		}
	}
	return out
}
