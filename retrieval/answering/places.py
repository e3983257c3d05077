"""Place names the answerer knows are places: countries, continents, US states, big cities."""

from __future__ import annotations

_COUNTRIES = """
afghanistan albania algeria andorra angola antigua argentina armenia australia austria
azerbaijan bahamas bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia
bosnia botswana brazil brunei bulgaria burkina burundi cambodia cameroon canada chad chile
china colombia comoros congo croatia cuba cyprus czechia denmark djibouti dominica ecuador
egypt eritrea estonia eswatini ethiopia fiji finland france gabon gambia georgia germany
ghana greece grenada guatemala guinea guyana haiti honduras hungary iceland india indonesia
iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya kiribati kosovo kuwait
kyrgyzstan laos latvia lebanon lesotho liberia libya liechtenstein lithuania luxembourg
madagascar malawi malaysia maldives mali malta mauritania mauritius mexico micronesia
moldova monaco mongolia montenegro morocco mozambique myanmar burma namibia nauru nepal
netherlands holland nicaragua niger nigeria macedonia norway oman pakistan palau palestine
panama paraguay peru philippines poland portugal qatar romania russia rwanda samoa
senegal serbia seychelles singapore slovakia slovenia somalia spain sudan suriname sweden
switzerland syria taiwan tajikistan tanzania thailand togo tonga trinidad tunisia turkey
turkiye turkmenistan tuvalu uganda ukraine uruguay uzbekistan vanuatu vatican venezuela
vietnam yemen zambia zimbabwe britain england scotland wales greenland crimea gaza tibet
"""
_MULTI = """
united states|united kingdom|united arab emirates|saudi arabia|south africa|south korea|
north korea|new zealand|sri lanka|costa rica|el salvador|ivory coast|cote d'ivoire|
czech republic|dominican republic|central african republic|puerto rico|hong kong|
papua new guinea|sierra leone|east timor|south sudan|the netherlands|the philippines|
the bahamas|the gambia|the uk|the us|the u.s.|great britain|northern ireland|
west bank|the vatican|vatican city|north macedonia|marshall islands|solomon islands|
cape verde|equatorial guinea|guinea-bissau|san marino|saint lucia|the caribbean|
middle east|latin america|north america|south america|central america|southeast asia|
east asia|western europe|eastern europe|the arctic|the antarctic|the pacific|the atlantic|
new york|los angeles|san francisco|washington, d.c.|new delhi|rio de janeiro|sao paulo|
buenos aires|mexico city|tel aviv|abu dhabi|kuala lumpur|cape town|st. petersburg|
las vegas|new orleans|new jersey|new mexico|new hampshire|north carolina|south carolina|
north dakota|south dakota|west virginia|rhode island|international space station
"""
_REGIONS = """
europe asia africa oceania antarctica america americas arctic antarctic
alabama alaska arizona arkansas california colorado connecticut delaware florida hawaii
idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan
minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania
tennessee texas utah vermont virginia washington wisconsin wyoming
london paris berlin moscow kyiv kiev beijing tokyo delhi mumbai shanghai rome madrid
lisbon vienna prague warsaw budapest brussels amsterdam stockholm oslo copenhagen helsinki
dublin athens istanbul ankara cairo tehran baghdad kabul islamabad karachi lahore dhaka
bangkok jakarta manila seoul taipei sydney melbourne toronto montreal vancouver ottawa
chicago boston houston dallas miami atlanta seattle denver philadelphia detroit phoenix
jerusalem beirut damascus riyadh dubai doha nairobi lagos johannesburg havana caracas
bogota lima santiago kharkiv odesa odessa mariupol kherson zaporizhzhia donetsk luhansk
donbas minsk tbilisi yerevan baku geneva zurich munich milan venice naples barcelona
edinburgh manchester liverpool glasgow belfast cardiff wuhan hiroshima okinawa bali
"""
PLACES = frozenset(
    _COUNTRIES.split()
    + _REGIONS.split()
    + [p.strip() for p in _MULTI.replace("\n", "").split("|") if p.strip()]
)
