package flow

import (
	"strings"
	"unicode"
)

// languageCues are each language's most frequent everyday words: articles,
// pronouns, prepositions, greetings, courtesy. They say which language a
// caller speaks and nothing about what they want, so they fit every business.
// Accents are stripped before matching: transcripts do not always carry them.
var languageCues = map[string]map[string]bool{
	"en": wordSet(`the a an i i'm im my me we our you your it is are was be have has had do does did
		to of in on for with at from and or but not no this that what how why when where who
		want need would like can could help please hello hi hey thanks thank yes yeah good morning
		calling call about some just there here am get got`),
	"es": wordSet(`el la los las un una unos unas yo mi mis me nos nuestro usted ustedes su sus es son
		esta estoy esta estan era ser tengo tiene tienen hay de del al en por para con sin y o pero
		no que como cuando donde quien porque quiero quisiera necesito puedo puede ayuda ayudar
		hola buenos buenas dias tardes noches gracias favor si senor senora llamo llamar sobre algo
		alguien aqui muy mas`),
}

// DetectsLanguage reports whether speech detection knows cue words for lang,
// a BCP-47 tag such as es-ES (matched by its language, es).
func DetectsLanguage(lang string) bool {
	return languageCues[baseLanguage(lang)] != nil
}

// detectLanguage picks among langs the language whose cue words its own
// transcription's words, heard[lang], use most; "" when no language stands
// out (no cue word, or a tie), and the caller stays in the default language.
func detectLanguage(heard map[string]string, langs []string) string {
	best, bestScore, tied := "", 0, false
	for _, lang := range langs {
		score := languageScore(lang, heard[lang])
		switch {
		case score > bestScore:
			best, bestScore, tied = lang, score, false
		case score == bestScore && score > 0:
			tied = true
		}
	}
	if tied {
		return ""
	}
	return best
}

// languageScore counts the cue words of lang in text.
func languageScore(lang, text string) int {
	cues := languageCues[baseLanguage(lang)]
	score := 0
	for _, w := range strings.FieldsFunc(foldAccents(strings.ToLower(text)), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	}) {
		if cues[w] {
			score++
		}
	}
	// A request for a person in that language is a cue too: "operador"
	// alone says Spanish.
	said := words(text)
	for _, p := range defaultPersonPhrases[baseLanguage(lang)] {
		if holds(said, strings.Fields(p)) {
			score++
		}
	}
	return score
}

// baseLanguage is the language part of a BCP-47 tag: "es" of "es-ES".
func baseLanguage(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return base
}

// foldAccents maps the accented letters of the languages with cue tables to
// plain ones: "días" becomes "dias". (Those few letters need no Unicode
// normalization package.)
var foldAccents = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n").Replace
