"""The notification centre (basement): any app raises alerts through
``acorn.notifications.services.notification_raise``; users see them in the
dashboard (a bell with a count in the header), acknowledge them, and get a
daily digest e-mail per their preferences."""
