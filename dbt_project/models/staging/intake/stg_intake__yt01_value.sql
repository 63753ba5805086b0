-- YT-01's rows as loaded (raw_intake.yt01_value), for the provenance of each figure
-- (fct_dong_bao_cao); the values themselves are read through int_chi_tieu__current_values.
{{ indicator_form_rows('yt01_value') }}
