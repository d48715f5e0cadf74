"""Text templates of the demo, per category and language.

Placeholders: ``{brand}`` ``{app}`` ``{service}`` ``{abo}`` ``{scooter}`` ``{tag}`` (own company),
``{comp}`` ``{comp_app}`` ``{comp_abo}`` (a competitor), ``{line}`` ``{city}`` ``{city2}`` ``{min}``
``{eur}`` ``{day}`` ``{time}`` ``{crisis}`` (the crisis hashtag). A post is an opener, a body and a
closer picked independently, so a few dozen templates give thousands of different texts.
"""

from __future__ import annotations

Templates = dict[str, tuple[str, ...]]

# --- German -------------------------------------------------------------------------------------

COMPLAINT_DE: Templates = {
    "open": (
        "Ernsthaft, {brand}?",
        "Schon wieder.",
        "Ich kann es nicht fassen:",
        "Liebe {brand},",
        "Wie jeden {day}:",
        "Mal ehrlich,",
        "Unfassbar.",
        "Kurzes Update aus dem Pendleralltag:",
        "Ich bin so genervt.",
        "Hallo {service},",
    ),
    "body": (
        "der {line} nach {city} hat heute {min} Minuten Verspätung und keiner sagt warum",
        "die {app} App stürzt beim Bezahlen jedes Mal ab, Ticket kaufen unmöglich",
        "mir wurden für das {abo} zweimal {eur} Euro abgebucht",
        "seit drei Wochen warte ich auf meine Erstattung über {eur} Euro",
        "der Zug von {city} nach {city2} war wieder total verdreckt, die Toiletten gesperrt",
        "die Zugbegleiterin im {line} war richtig unfreundlich zu einer älteren Dame",
        "der {scooter} Roller am Bahnhof {city} hatte einen platten Reifen und trotzdem wurde abgerechnet",
        "die Hotline von {service} hängt seit {min} Minuten in der Warteschleife",
        "der Anschluss in {city} wurde nicht abgewartet, jetzt sitze ich eine Stunde fest",
        "in der {app} steht der {line} als pünktlich, in Wahrheit fällt er aus",
        "die Klimaanlage im {line} ist kaputt, es sind gefühlt 35 Grad im Wagen",
        "die Kündigung vom {abo} wird einfach ignoriert, ich zahle weiter {eur} Euro",
        "der Aufzug am Bahnhof {city} ist seit Wochen defekt, mit Rollstuhl komme ich nicht zum Gleis",
        "mein Login in der {app} App geht seit dem Update nicht mehr",
        "Zugausfall {line} um {time}, Ersatzverkehr nirgends ausgeschildert",
    ),
    "close": (
        "So nicht!",
        "Ich bin raus.",
        "Das ist einfach nur peinlich.",
        "Bitte endlich was tun.",
        "😡",
        "Wer kennt das auch?",
        "Danke für nichts.",
        "{tag}",
        "Ich überlege ernsthaft zu {comp} zu wechseln.",
        "Antwort bitte per DM.",
        "",
    ),
}

QUESTION_DE: Templates = {
    "open": ("Kurze Frage:", "Hallo {service},", "Weiß jemand,", "Frage an die Community:", "Hilfe bitte:", "Moin,"),
    "body": (
        "gilt das {abo} auch im {line} nach {city}",
        "wie bekomme ich eine Erstattung, wenn der {line} mehr als {min} Minuten zu spät ist",
        "kann man ein Fahrrad im {line} mitnehmen und braucht man dafür ein extra Ticket",
        "ist der Bahnhof {city} barrierefrei erreichbar, gibt es dort einen Aufzug",
        "kann ich das {abo} auch monatlich kündigen",
        "wo finde ich in der {app} App meine Rechnungen",
        "kann man die {scooter} Roller auch mit dem {abo} vergünstigt nutzen",
        "wie ändere ich die Zahlungsart in der {app} App",
        "gibt es für Schüler in {city} einen Rabatt auf das {abo}",
        "bis wann muss ich das {abo} für nächsten Monat kündigen",
        "darf mein Hund im {line} mitfahren",
    ),
    "close": ("Danke im Voraus!", "Danke!", "Bin für jeden Tipp dankbar.", "?", "{tag}", "LG", ""),
}

PRAISE_DE: Templates = {
    "open": (
        "Muss auch mal gesagt werden:",
        "Großes Lob an {brand}!",
        "Positiv überrascht:",
        "Danke, {brand}!",
        "Heute mal was Schönes:",
    ),
    "body": (
        "der {line} nach {city} war heute auf die Minute pünktlich",
        "der {service} hat meine Erstattung in zwei Tagen erledigt",
        "die neue Version der {app} App läuft richtig flüssig",
        "die Zugbegleiterin im {line} hat mir super freundlich mit dem Kinderwagen geholfen",
        "mit dem {abo} spare ich jeden Monat fast {eur} Euro",
        "die {scooter} Roller in {city} sind sauber und immer verfügbar",
        "die neuen Züge zwischen {city} und {city2} sind leise und sauber",
        "der Chat im {app} hat mein Problem in fünf Minuten gelöst",
    ),
    "close": ("Weiter so!", "👍", "Danke an das Team!", "So macht Pendeln Spaß.", "{tag}", ""),
}

NEWS_DE: Templates = {
    "title": (
        "{brand} erweitert Takt auf der Strecke {city}–{city2}",
        "{abo}: {brand} meldet neuen Abo-Rekord",
        "Bauarbeiten: Einschränkungen im {line} bis Monatsende",
        "{brand} testet {scooter}-Roller in {city}",
        "Neue {app}-Version mit Echtzeit-Auslastung",
        "Pünktlichkeit bei {brand} im Quartal leicht verbessert",
        "{comp} und {brand} im Preisvergleich",
        "Fahrgastverband kritisiert Ausfälle im {line}",
    ),
    "body": (
        "Wie das Unternehmen mitteilte, sollen die Änderungen ab {day} gelten.",
        "Ein Sprecher von {brand} kündigte weitere Investitionen in {city} an.",
        "Fahrgäste sollten sich vorab in der {app} App informieren.",
        "Laut Fahrgastverband sind besonders Pendler zwischen {city} und {city2} betroffen.",
        "Die Konkurrenz von {comp} plant ein ähnliches Angebot mit dem {comp_abo}.",
        "Das {abo} kostet weiterhin {eur} Euro im Monat.",
        "Die Zahl der Beschwerden beim {service} sei zuletzt zurückgegangen.",
        "Ersatzbusse fahren im Abstand von {min} Minuten.",
    ),
}

COMPETITOR_DE: Templates = {
    "open": ("Vergleich:", "Heute mal mit {comp} gefahren.", "Wechsel überlegt:", "Kleiner Erfahrungsbericht:"),
    "body": (
        "die {comp_app} ist deutlich übersichtlicher als die {app}",
        "das {comp_abo} ist günstiger als das {abo}, aber gilt nicht im {line}",
        "{comp} war heute pünktlicher als {brand}",
        "beim {comp} Service kam die Antwort schneller",
        "{comp} hat auch Roller in {city}, aber die {scooter} sind besser gewartet",
        "der Kundenservice von {comp} war leider genauso schlecht",
    ),
    "close": ("Mal sehen.", "Was meint ihr?", "{tag}", "🤷", ""),
}

CRISIS_DE: Templates = {
    "open": (
        "{crisis}",
        "Totalausfall bei {brand}!",
        "Immer noch nichts!",
        "Tag {n} ohne Tickets:",
        "Was ist da los, {brand}?",
    ),
    "body": (
        "die {app} App ist komplett down, kein Ticketkauf möglich",
        "am Automaten in {city} geht auch nichts, Kartenzahlung gestört",
        "der Kontrolleur im {line} wollte trotzdem eine Strafe, obwohl die {app} seit Stunden ausfällt",
        "mein {abo} wird in der App nicht angezeigt, ich fahre quasi schwarz",
        "die Hotline von {service} ist dauerbesetzt, auf der Webseite nur eine Fehlermeldung",
        "angeblich sind auch Kundendaten betroffen, warum informiert {brand} nicht",
        "seit {min} Stunden keine Info, Pendler in {city} stehen ratlos am Gleis",
    ),
    "close": (
        "{crisis}",
        "Absolutes Chaos. {crisis}",
        "Erstattet ihr das? {crisis}",
        "Unfassbar. {crisis}",
        "{crisis} {tag}",
    ),
}

REPLY_DE = (
    "Bei mir genau das Gleiche heute.", "Kann ich bestätigen, seit Tagen so.", "Hast du schon das Formular probiert?",
    "Mir haben sie nach einer Woche geantwortet.", "Ist bei {comp} leider nicht besser.", "Danke für den Tipp!",
    "Stimmt, heute lief es ausnahmsweise gut.", "Das kenne ich nur zu gut.",
    "Schreib am besten direkt den {service} an.",
    "Bei mir hat ein Neustart der {app} geholfen.",
)  # fmt: skip
SERVICE_REPLY_DE = (
    "Hallo, das tut uns leid! Bitte schick uns deine Buchungsnummer per DM, wir kümmern uns. ^{sig}",
    "Danke für dein Feedback, wir haben es an das Team weitergegeben. ^{sig}",
    "Hallo, die Erstattung kannst du im {app} unter Service > Erstattung beantragen. ^{sig}",
    "Wir arbeiten mit Hochdruck an der Störung und melden uns, sobald es Neuigkeiten gibt. ^{sig}",
)  # fmt: skip
COMMENT_DE = (
    "Toller Beitrag, danke für die Infos!", "Und wann kommt endlich der bessere Takt nach {city}?",
    "Schön und gut, aber die {app} stürzt trotzdem ständig ab.", "Gilt das auch für das {abo}?",
    "Endlich! Darauf warten wir in {city} schon lange.", "Bitte auch an die Barrierefreiheit denken.",
    "Klingt gut, ich bin gespannt.", "Warum wird das nicht in der {app} angekündigt?",
)  # fmt: skip
#: Second sentences that make blog comments specific (a comment is a COMMENT plus, often, one of these).
COMMENT_TAIL_DE = (
    "Ich fahre jeden Tag mit dem {line} von {city} nach {city2}.", "Gestern waren es wieder {min} Minuten.",
    "Seit dem {abo} fahre ich kaum noch Auto.", "Bei {comp} gibt es das schon länger.",
    "Am Bahnhof {city} merkt man davon leider nichts.", "Mein Sohn nutzt jetzt die {scooter} Roller in {city}.",
    "Am {day} probiere ich es aus.", "Das {abo} war mir bisher zu teuer.",
)  # fmt: skip

# --- English ------------------------------------------------------------------------------------

COMPLAINT_EN: Templates = {
    "open": ("Seriously, {brand}?", "Again.", "Dear {brand},", "Tourist here:", "Not impressed.", "Ugh."),
    "body": (
        "the {line} to {city} is {min} minutes late and nobody explains why",
        "the {app} app keeps crashing at checkout, I cannot buy a ticket",
        "I was charged twice for the {abo}, {eur} euros each",
        "still waiting for my refund of {eur} euros after three weeks",
        "the train from {city} to {city2} was filthy, toilets closed",
        "the conductor on the {line} was really rude to us",
        "the {scooter} scooter I rented in {city} had a flat tyre",
        "your hotline kept me on hold for {min} minutes",
    ),
    "close": ("Not good enough.", "Fix it please.", "{tag}", "Never again.", ""),
}
QUESTION_EN: Templates = {
    "open": ("Quick question:", "Hi {service},", "Does anyone know", "Help please:"),
    "body": (
        "is the {abo} valid on the {line} to {city}",
        "how do I get a refund when my train is {min} minutes late",
        "can I take my bike on the {line}",
        "is {city} station step-free, is there a lift to the platforms",
        "does the {app} app work with foreign credit cards",
    ),
    "close": ("Thanks!", "Thanks in advance.", "?", ""),
}
PRAISE_EN: Templates = {
    "open": ("Credit where it is due:", "Thank you {brand}!", "Pleasantly surprised:"),
    "body": (
        "the {line} to {city} was right on time",
        "{service} sorted my refund in two days",
        "the new {app} app is fast and easy to use",
        "the {scooter} scooters in {city} are clean and everywhere",
    ),
    "close": ("Great job!", "👏", "{tag}", ""),
}
NEWS_EN: Templates = {
    "title": (
        "{brand} adds trains between {city} and {city2}",
        "{brand} reports record {abo} subscriptions",
        "{comp} and {brand} compete on app features",
        "{brand} pilots {scooter} e-scooters in {city}",
        "Rail punctuality in northern Germany improves slightly",
    ),
    "body": (
        "The company said the changes take effect on {day}.",
        "A spokesperson for {brand} announced further investment in {city}.",
        "Rival {comp} is planning a similar offer with its {comp_abo}.",
        "Passenger groups say commuters between {city} and {city2} are hit hardest.",
        "The {abo} remains at {eur} euros a month.",
    ),
}
COMPETITOR_EN: Templates = {
    "open": ("Comparison:", "Tried {comp} today.", "Thinking of switching:"),
    "body": (
        "the {comp_app} is much clearer than the {app}",
        "the {comp_abo} is cheaper than the {abo}",
        "{comp} was more punctual than {brand} today",
    ),
    "close": ("Thoughts?", "{tag}", ""),
}
CRISIS_EN: Templates = {
    "open": ("{crisis}", "Total outage at {brand}!", "Still down!", "Day {n} without tickets:"),
    "body": (
        "the {app} app is completely down, no way to buy tickets",
        "ticket machines in {city} are not taking cards either",
        "reports say customer data may have leaked, why is {brand} silent",
        "no information for {min} hours, commuters in {city} stranded",
    ),
    "close": ("{crisis}", "Chaos. {crisis}", "Refunds? {crisis}"),
}
REPLY_EN = (
    "Same for me today.", "Can confirm, it has been like this for days.", "Try the refund form, it worked for me.",
    "{comp} is no better, sadly.", "Thanks for the tip!",
)  # fmt: skip
COMMENT_TAIL_EN = (
    "I take the {line} from {city} every day.", "Yesterday it was {min} minutes again.", "{comp} had this for ages.",
    "Nothing has changed at {city} station though.", "Will try it on {day}.",
)  # fmt: skip
SERVICE_REPLY_EN = (
    "Hi, sorry to hear that! Please DM us your booking number and we will look into it. ^{sig}",
    "We are working hard on the outage and will update you as soon as we can. ^{sig}",
)

POSTS: dict[str, dict[str, Templates]] = {
    "de": {
        "complaint": COMPLAINT_DE,
        "question": QUESTION_DE,
        "praise": PRAISE_DE,
        "competitor": COMPETITOR_DE,
        "crisis": CRISIS_DE,
    },
    "en": {
        "complaint": COMPLAINT_EN,
        "question": QUESTION_EN,
        "praise": PRAISE_EN,
        "competitor": COMPETITOR_EN,
        "crisis": CRISIS_EN,
    },
}
NEWS: dict[str, Templates] = {"de": NEWS_DE, "en": NEWS_EN}
REPLIES: dict[str, tuple[str, ...]] = {"de": REPLY_DE, "en": REPLY_EN}
SERVICE_REPLIES: dict[str, tuple[str, ...]] = {"de": SERVICE_REPLY_DE, "en": SERVICE_REPLY_EN}
COMMENTS: dict[str, tuple[str, ...]] = {"de": COMMENT_DE, "en": REPLY_EN}
TAILS: dict[str, tuple[str, ...]] = {"de": COMMENT_TAIL_DE, "en": COMMENT_TAIL_EN}
SENTIMENT = {"complaint": "negative", "crisis": "negative", "praise": "positive", "question": "neutral"}
WEEKDAYS = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
