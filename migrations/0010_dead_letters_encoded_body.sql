-- A dead letter is never dropped, not even one whose body Postgres cannot hold as jsonb (a NUL
-- character, an unpaired UTF-16 surrogate, a value JSON cannot represent) or that Postgres
-- refuses for another reason. Such a letter is stored encoded:
--   event_encoding  'jsonb' (the body is `event`, unchanged) or 'json_text' (see below);
--   event_text      with 'json_text': the exact body as JSON text (a NUL and a lone surrogate are
--                   written as \u escapes, which a text column holds), JSON.parse gives it back;
--   event           with 'json_text': a readable copy with the refused characters replaced by
--                   U+FFFD, so listing and filtering keep working;
--   storage_note    what was changed and why (the paths and the Postgres error).
alter table edgebus.dead_letters
  add column event_encoding text not null default 'jsonb',
  add column event_text text,
  add column storage_note text,
  add constraint dead_letters_event_encoding check (event_encoding in ('jsonb', 'json_text')),
  add constraint dead_letters_event_text check ((event_encoding = 'json_text') = (event_text is not null));
