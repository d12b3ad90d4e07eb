-- Each goal sets the share of its period (percent) before a risk warning may be raised.
ALTER TABLE goals ADD COLUMN notify_risk_after INTEGER NOT NULL DEFAULT 30
    CHECK (notify_risk_after BETWEEN 1 AND 100);
