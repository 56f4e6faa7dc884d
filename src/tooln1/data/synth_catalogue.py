"""The built-in tool catalogue of `tooln1 data synth`: 36 tool schemas, each with query templates and value pools.

A template names its arguments as `{slot}` (`{address.city}` for a field of an object argument). The slots a
template uses are exactly the arguments of its gold call, and every value is written literally in the query,
so a small model can learn the mapping. Required parameters appear in every template; optional ones only in some,
which teaches "pass an optional argument only when it is asked for" (the reward gives 0 for an extra argument).

Example:
    >>> tool = CATALOGUE["get_weather"]
    >>> tool.schema()["parameters"]["properties"]["unit"]
    {'type': 'string', 'description': 'Temperature unit', 'enum': ['celsius', 'fahrenheit']}
    >>> tool.templates[1]
    "What's the weather in {city} in {unit}?"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Param:
    """One parameter. `values` is a pool (strings, array items), `pattern` makes strings (`#` digit, `@` letter),
    `span` bounds integers and numbers, `words` renders booleans (text for true, text for false)."""

    type: str
    description: str
    optional: bool = False
    values: tuple = ()
    enum: tuple = ()
    pattern: str = ""
    span: tuple = ()
    words: tuple = ()
    fields: dict[str, Param] = field(default_factory=dict)
    item_type: str = "string"

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "description": self.description}
        if self.enum:
            out["enum"] = list(self.enum)
        if self.type == "array":
            out["items"] = {"type": self.item_type}
        if self.type == "object":
            out["properties"] = {k: p.schema() for k, p in self.fields.items()}
            out["required"] = [k for k, p in self.fields.items() if not p.optional]
        return out


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    category: str
    params: dict[str, Param]
    templates: tuple[str, ...]

    def schema(self) -> dict[str, Any]:
        """The tool as a JSON-schema function description, as BFCL and OpenAI write them."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": {
                "type": "object",
                "properties": {k: p.schema() for k, p in self.params.items()},
                "required": [k for k, p in self.params.items() if not p.optional],
            },
        }


def text(
    description: str, values: tuple = (), *, enum: tuple = (), pattern: str = "", optional: bool = False
) -> Param:
    return Param("string", description, optional, values=values or enum, enum=enum, pattern=pattern)


def integer(description: str, lo: int, hi: int, optional: bool = False) -> Param:
    return Param("integer", description, optional, span=(lo, hi))


def number(description: str, lo: float, hi: float, optional: bool = False) -> Param:
    return Param("number", description, optional, span=(lo, hi))


def boolean(description: str, yes: str, no: str, optional: bool = False) -> Param:
    return Param("boolean", description, optional, words=(yes, no))


def array(description: str, values: tuple = (), *, item_type: str = "string", span: tuple = ()) -> Param:
    return Param("array", description, values=values, item_type=item_type, span=span)


def obj(description: str, fields: dict[str, Param]) -> Param:
    return Param("object", description, fields=fields)


CITIES = ("Paris", "Tokyo", "Berlin", "Lima", "Cairo", "Oslo", "Toronto", "Madrid", "Sydney", "Nairobi", "Seoul",
          "Lisbon", "Chicago", "Mumbai", "Prague", "Dublin")  # fmt: skip
COUNTRIES = ("France", "Japan", "Germany", "Peru", "Egypt", "Norway", "Canada", "Spain", "Kenya", "Portugal")
PEOPLE = ("alice@example.com", "bob@example.org", "chen@example.net", "dana@example.com", "eli@example.org")
DATES = ("2025-03-14", "2025-04-02", "2025-05-20", "2025-06-11", "2025-07-30", "2025-09-08", "2025-10-17")
TIMES = ("07:30", "08:15", "12:00", "18:45", "19:30", "21:00", "06:00")
FOODS = ("milk", "eggs", "bread", "apples", "rice", "butter", "coffee", "tomatoes", "cheese", "onions")
SONGS = ("Yesterday", "Bohemian Rhapsody", "Imagine", "Hey Jude", "Wonderwall", "Halo", "Clocks", "Hallelujah")
CURRENCIES = ("USD", "EUR", "JPY", "GBP", "CHF", "CAD")
LANGUAGES = ("french", "spanish", "german", "japanese", "italian")
ROOMS = ("living room", "bedroom", "kitchen", "office")
WORDS = ("serendipity", "ephemeral", "ubiquitous", "meticulous", "resilient", "candid")
STREETS = ("12 Oak Street", "5 Harbor Road", "48 Elm Avenue", "7 Mill Lane", "230 King Street")

_TOOLS = [
    Tool("get_weather", "Get the current weather for a city.", "weather",
         {"city": text("City name", CITIES),
          "unit": text("Temperature unit", enum=("celsius", "fahrenheit"), optional=True)},
         ("What's the weather in {city}?", "What's the weather in {city} in {unit}?",
          "How warm is it in {city} right now?")),
    Tool("get_forecast", "Get the weather forecast for the next days.", "weather",
         {"city": text("City name", CITIES), "days": integer("Number of days", 2, 10)},
         ("Give me the {days}-day forecast for {city}.",
          "What will the weather be in {city} over the next {days} days?")),
    Tool("convert_currency", "Convert an amount between currencies.", "finance",
         {"amount": number("Amount to convert", 1, 900),
          "from_currency": text("Source currency code", enum=CURRENCIES),
          "to_currency": text("Target currency code", enum=CURRENCIES)},
         ("Convert {amount} {from_currency} to {to_currency}.",
          "How much is {amount} {from_currency} in {to_currency}?")),
    Tool("get_stock_price", "Get the latest price of a stock.", "finance",
         {"symbol": text("Ticker symbol", ("AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "GOOG", "IBM"))},
         ("What is the stock price of {symbol}?", "Look up the current {symbol} share price.")),
    Tool("calculate_loan_payment", "Monthly payment of a fixed-rate loan.", "finance",
         {"principal": integer("Loan amount", 1000, 500000),
          "annual_rate": number("Yearly interest rate in percent", 1, 12),
          "years": integer("Loan term in years", 1, 30)},
         ("What is the monthly payment on a {principal} loan at {annual_rate} percent for {years} years?",)),
    Tool("calculate_tip", "Compute the tip for a bill.", "finance",
         {"bill_amount": number("Bill total", 5, 400), "tip_percent": integer("Tip in percent", 5, 30)},
         ("How much is a {tip_percent} percent tip on a bill of {bill_amount}?",)),
    Tool("send_email", "Send an email.", "communication",
         {"to": text("Recipient address", PEOPLE),
          "subject": text("Subject line", ("Quarterly report", "Lunch on Friday", "Project update", "Team offsite")),
          "urgent": boolean("Mark as urgent", "Mark it urgent.", "It is not urgent.", optional=True)},
         ('Email {to} with the subject "{subject}".', 'Send an email to {to} titled "{subject}". {urgent}')),
    Tool("send_sms", "Send a text message.", "communication",
         {"phone_number": text("Phone number", pattern="+1-555-####"),
          "message": text("Message text", ("Running late", "Call me back", "Dinner is ready", "Happy birthday"))},
         ('Text {phone_number} the message "{message}".', 'Send "{message}" by SMS to {phone_number}.')),
    Tool("create_calendar_event", "Add an event to the calendar.", "calendar",
         {"title": text("Event title", ("Dentist", "Team sync", "Yoga class", "Budget review", "Parent meeting")),
          "date": text("Date, YYYY-MM-DD", DATES), "duration_minutes": integer("Length in minutes", 15, 180),
          "attendees": Param("array", "Attendee emails", optional=True, values=PEOPLE)},
         ('Schedule "{title}" on {date} for {duration_minutes} minutes.',
          'Create a {duration_minutes}-minute event "{title}" on {date} with {attendees}.')),
    Tool("set_alarm", "Set an alarm.", "calendar",
         {"time": text("Time, HH:MM", TIMES),
          "repeat_daily": boolean("Repeat every day", "Repeat it every day.", "Just once.", optional=True)},
         ("Set an alarm for {time}.", "Wake me up at {time}. {repeat_daily}")),
    Tool("set_reminder", "Remind the user of something later.", "calendar",
         {"text": text("What to remember", ("water the plants", "call mom", "take the pills", "check the oven")),
          "minutes_from_now": integer("Delay in minutes", 5, 240)},
         ("Remind me to {text} in {minutes_from_now} minutes.",)),
    Tool("search_restaurants", "Find restaurants in a city.", "food",
         {"city": text("City name", CITIES),
          "cuisine": text("Cuisine", enum=("italian", "thai", "mexican", "indian", "sushi")),
          "max_price_level": integer("Highest price level, 1 to 4", 1, 4, optional=True)},
         ("Find {cuisine} restaurants in {city}.",
          "Find {cuisine} restaurants in {city} with price level at most {max_price_level}.")),
    Tool("book_table", "Reserve a table at a restaurant.", "food",
         {"restaurant": text("Restaurant name", ("Luigi's", "Green Leaf", "Blue Lotus", "El Camino", "Sakura")),
          "party_size": integer("Number of guests", 1, 12), "time": text("Time, HH:MM", TIMES),
          "outdoor": boolean("Outdoor seating", "We want to sit outside.", "We want to sit inside.", optional=True)},
         ("Book a table for {party_size} at {restaurant} at {time}.",
          "Reserve {restaurant} for {party_size} people at {time}. {outdoor}")),
    Tool("get_recipe", "Find a recipe for a dish.", "food",
         {"dish": text("Dish name", ("lasagna", "pad thai", "pancakes", "chili", "risotto", "falafel")),
          "vegetarian": boolean("Vegetarian version", "Make it vegetarian.", "Meat is fine.", optional=True)},
         ("How do I make {dish}?", "Give me a recipe for {dish}. {vegetarian}")),
    Tool("order_groceries", "Order groceries for delivery.", "shopping",
         {"items": array("Items to order", FOODS),
          "express_delivery": boolean("Express delivery", "Use express delivery.", "Standard delivery is fine.",
                                      optional=True)},
         ("Order {items}.", "Please order {items}. {express_delivery}")),
    Tool("track_package", "Track a parcel.", "shopping",
         {"tracking_number": text("Tracking number", pattern="@@########"),
          "carrier": text("Carrier", enum=("ups", "fedex", "dhl", "usps"))},
         ("Where is my {carrier} package {tracking_number}?", "Track {tracking_number} with {carrier}.")),
    Tool("ship_package", "Create a shipping label.", "shopping",
         {"weight_kg": number("Weight in kilograms", 0.2, 30),
          "destination": obj("Where to ship", {"city": text("City", CITIES), "country": text("Country", COUNTRIES),
                                               "postal_code": text("Postal code", pattern="#####", optional=True)})},
         ("Ship a {weight_kg} kg parcel to {destination.city}, {destination.country}.",
          ("Ship {weight_kg} kg to postal code {destination.postal_code} in {destination.city}, "
           "{destination.country}."))),
    Tool("update_shipping_address", "Change the delivery address of an order.", "shopping",
         {"order_id": text("Order id", pattern="ORD-#####"),
          "address": obj("New address", {"street": text("Street and number", STREETS), "city": text("City", CITIES),
                                         "zip_code": text("Zip code", pattern="#####")})},
         ("Send order {order_id} to {address.street}, {address.city} {address.zip_code} instead.",)),
    Tool("search_flights", "Search flights.", "travel",
         {"origin": text("Departure city", CITIES), "destination": text("Arrival city", CITIES),
          "date": text("YYYY-MM-DD", DATES), "passengers": integer("Number of passengers", 1, 6, optional=True)},
         ("Find flights from {origin} to {destination} on {date}.",
          "Find flights from {origin} to {destination} on {date} for {passengers} passengers.")),
    Tool("book_hotel", "Book a hotel room.", "travel",
         {"city": text("City name", CITIES), "check_in": text("YYYY-MM-DD", DATES),
          "nights": integer("Number of nights", 1, 14),
          "breakfast_included": boolean("Include breakfast", "Include breakfast.", "No breakfast.", optional=True)},
         ("Book a hotel in {city} from {check_in} for {nights} nights.",
          "I need a hotel in {city} for {nights} nights starting {check_in}. {breakfast_included}")),
    Tool("get_directions", "Route between two places.", "travel",
         {"origin": text("Start", CITIES), "destination": text("End", CITIES),
          "mode": text("Travel mode", enum=("driving", "walking", "cycling", "transit"))},
         ("How do I get from {origin} to {destination} by {mode}?",)),
    Tool("translate_text", "Translate text into another language.", "language",
         {"text": text("Text to translate", ("good morning", "where is the station", "thank you", "I am lost")),
          "target_language": text("Target language", enum=LANGUAGES)},
         ('Translate "{text}" into {target_language}.',)),
    Tool("define_word", "Dictionary definition of a word.", "language",
         {"word": text("The word", WORDS)}, ("What does {word} mean?", "Define the word {word}.")),
    Tool("calculate_bmi", "Body mass index from weight and height.", "health",
         {"weight_kg": number("Weight in kilograms", 40, 140), "height_m": number("Height in meters", 1.4, 2.1)},
         ("What is my BMI if I weigh {weight_kg} kg and I am {height_m} m tall?",)),
    Tool("log_workout", "Record a workout.", "health",
         {"activity": text("Activity", enum=("running", "cycling", "swimming", "yoga")),
          "duration_minutes": integer("Minutes", 10, 120),
          "calories": integer("Calories burned", 50, 900, optional=True)},
         ("Log {duration_minutes} minutes of {activity}.",
          "Log {activity} for {duration_minutes} minutes, {calories} calories burned.")),
    Tool("play_music", "Play a song.", "media",
         {"song": text("Song title", SONGS),
          "artist": text("Artist", ("The Beatles", "Queen", "Oasis", "Coldplay"), optional=True),
          "shuffle": boolean("Shuffle afterwards", "Shuffle after it.", "No shuffle.", optional=True)},
         ('Play "{song}".', 'Play "{song}" by {artist}.', 'Play "{song}". {shuffle}')),
    Tool("set_volume", "Set the speaker volume.", "media",
         {"level": integer("Volume from 0 to 100", 0, 100)}, ("Set the volume to {level}.",)),
    Tool("search_movies", "Search movies by genre.", "media",
         {"genre": text("Genre", enum=("comedy", "drama", "horror", "animation", "documentary")),
          "year": integer("Release year", 1970, 2024, optional=True)},
         ("Recommend some {genre} movies.", "Find {genre} movies from {year}.")),
    Tool("create_playlist", "Create a playlist.", "media",
         {"name": text("Playlist name", ("Road Trip", "Focus", "Sunday Morning", "Workout")),
          "songs": array("Songs", SONGS)},
         ('Make a playlist called "{name}" with {songs}.',)),
    Tool("set_thermostat", "Set a room's target temperature.", "home",
         {"temperature": number("Degrees Celsius", 16, 28), "room": text("Room", enum=ROOMS)},
         ("Set the {room} to {temperature} degrees.",)),
    Tool("toggle_lights", "Switch lights on or off.", "home",
         {"room": text("Room", enum=ROOMS), "on": boolean("Lights on", "on", "off")},
         ("Turn the {room} lights {on}.", "Switch {on} the lights in the {room}.")),
    Tool("lock_door", "Lock a door.", "home",
         {"door": text("Door", enum=("front", "back", "garage"))}, ("Lock the {door} door.",)),
    Tool("create_user", "Create an account.", "account",
         {"username": text("Login name", ("jdoe", "mira88", "kofi_a", "lena.p", "sam_k")),
          "age": integer("Age", 16, 90),
          "profile": obj("Profile", {"first_name": text("First name", ("John", "Mira", "Kofi", "Lena", "Sam")),
                                     "newsletter": boolean("Subscribe", "subscribed", "not subscribed")})},
         (("Create user {username}, age {age}, first name {profile.first_name}, "
           "{profile.newsletter} to the newsletter."),)),
    Tool("get_news", "Latest news on a topic.", "news",
         {"topic": text("Topic", ("climate", "football", "elections", "space", "startups")),
          "max_results": integer("How many articles", 1, 20, optional=True)},
         ("What's the latest news on {topic}?", "Show me {max_results} news articles about {topic}.")),
    Tool("compute_average", "Average of a list of numbers.", "math",
         {"numbers": array("The numbers", item_type="integer", span=(1, 99))},
         ("What is the average of {numbers}?",)),
    Tool("get_time", "Current local time in a city.", "utility",
         {"city": text("City name", CITIES)}, ("What time is it in {city}?",)),
]  # fmt: skip

CATALOGUE: dict[str, Tool] = {t.name: t for t in _TOOLS}

# Requests no catalogue tool serves: the no-call cases besides "a real request, but for a tool that is not listed".
CHITCHAT = (
    "Tell me a joke about penguins.", "Who wrote Pride and Prejudice?", "What is the capital of Australia?",
    "Write a haiku about autumn.", "How are you today?", "Explain photosynthesis in one sentence.",
    "What is 7 times 8?", "Suggest a name for my cat.", "Why is the sky blue?", "Summarize the plot of Hamlet.",
)  # fmt: skip
