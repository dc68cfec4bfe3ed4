"""The pages of tickets: the kiosk, the greeter tablet and the customer's status page."""
