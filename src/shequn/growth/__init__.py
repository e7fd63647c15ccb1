"""Growth and fission: acquisition sources, live codes, posters, campaigns, fission models,
referrals, rewards with validity and anti-fraud checks, and the campaign review."""
