"""The API's input and output models (pydantic), kept apart from the table models: a response
says exactly what the API promises, and inputs are validated (table models are not)."""
