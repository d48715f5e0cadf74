"""German and English stop words for key-phrase extraction.

Why our own short lists: a key phrase is split at these words, so they must cover the function
words (articles, pronouns, prepositions, auxiliaries, particles) and the filler of social posts
("mal", "halt", "lol", "rt"), and nothing that carries meaning. Both languages are in one set:
posts mix them, and an English stop word is rarely a German content word (and vice versa).
All entries are lower case; words shorter than three letters are dropped by the extractor anyway.
"""

from __future__ import annotations

_GERMAN = """
    aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes anderm andern
    anders auch auf aus bei beim bin bis bist bitte bzw da dabei dadurch dafür dagegen daher dahin damals damit
    danach daneben dann daran darauf daraus darf darfst darin darum darunter das dass dasselbe dazu dein deine
    deinem deinen deiner deines dem demselben den denn denselben der derer derselbe derselben des deshalb
    desselben dessen dich die dies diese dieselbe dieselben diesem diesen dieser dieses dir doch dort du durch
    eben ebenfalls ein eine einem einen einer eines einig einige einigem einigen einiger einiges einmal er es
    etwa etwas euch euer eure eurem euren eurer eures für gar gegen gewesen gibt ging hab habe haben habt hast
    hat hatte hatten hättest hätte hätten heute hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer
    ihres im immer in indem ins ist ja jede jedem jeden jeder jedes jedoch jemand jene jenem jenen jener jenes
    jetzt kann kannst kein keine keinem keinen keiner keines können könnt könnte könnten konnte konnten mache
    machen macht mal man manche manchem manchen mancher manches mehr mein meine meinem meinen meiner meines
    mich mir mit muss musst müssen musste müsste nach nachdem nein nicht nichts noch nun nur ob oder ohne schon
    sehr sein seine seinem seinen seiner seines seit seitdem selbst sich sie sind so solche solchem solchen
    solcher solches soll sollen sollte sollten sondern sonst sowie über um und uns unser unsere unserem unseren
    unserer unseres unter viel viele vom von vor wann war waren warst warum was weg weil weiter welche welchem
    welchen welcher welches wenn wer werde werden werdet weshalb wie wieder wieso will wir wird wirst wo woher
    wohin wollen wollte wollten würde würden zu zum zur zwar zwischen ganz gerade einfach eigentlich echt halt
    eh mal nochmal bereits sogar leider wohl denn etwa eher kaum oft ziemlich total richtig wirklich also
    ok okay ach oh naja tja hallo moin servus danke bitte liebe lieber leute heute gestern morgen
    siehe steht stehen gibt geht gehen kommt kommen sagt sagen finde findet finden sieht sehen lässt
    """

_ENGLISH = """
    a about above after again against all am an and any are aren as at be because been before being below
    between both but by can cannot could couldn did didn do does doesn doing don down during each few for from
    further had hadn has hasn have haven having he her here hers herself him himself his how i if in into is
    isn it its itself just let me more most mustn my myself no nor not now of off on once only or other ought
    our ours ourselves out over own same shan she should shouldn so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was wasn we were weren what
    when where which while who whom why will with won would wouldn you your yours yourself yourselves also
    really still even got get gets getting just like yes yeah ok okay oh hey hi hello thanks thank please via
    rt amp lol omg im ive dont cant wont didnt doesnt isnt thats theres youre one two new today yesterday
    tomorrow again ever every much many lot lots anyone someone something anything nothing everyone way
    """

GERMAN = frozenset(_GERMAN.split())
ENGLISH = frozenset(_ENGLISH.split())
STOPWORDS = GERMAN | ENGLISH
