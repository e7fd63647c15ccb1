"""Member CRM: profiles, custom fields, notes, tags, segments, import and export."""
