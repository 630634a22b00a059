"""一件事 declarations of the catalogue: validation and saving (`services`), the public guide pages (`views`) and
the admin (`admin`)."""
