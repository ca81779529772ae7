DROP INDEX accepted_answers_answer;
DROP TABLE accepted_answers;
